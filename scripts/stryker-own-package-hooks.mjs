// The resolve hook of stryker-own-package.mjs: the package's own specifiers to the sandbox's files.
let targets = {};

export function initialize(data) {
  targets = data.targets;
}

export function resolve(specifier, context, nextResolve) {
  const url = targets[specifier];
  return url ? { url, shortCircuit: true } : nextResolve(specifier, context);
}
