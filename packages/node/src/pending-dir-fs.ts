// The file-system calls whose order makes the pending directory durable (write, fsync, rename,
// fsync the directory) and its lock safe (exclusive create, rename aside, link back), and the
// reads of its entries. They go through this one object so that the specs can watch that order,
// or make a call fail (a process out of file descriptors) or race another call; nothing else
// replaces them. Not exported from the package (neither index.ts
// nor internal.ts).
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";

export const pendingDirFs = {
  open,
  readFile,
  rename,
  rm,
  openSync,
  writeSync,
  fsyncSync,
  closeSync,
  renameSync,
  linkSync,
  readFileSync,
};
