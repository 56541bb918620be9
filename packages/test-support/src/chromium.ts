// How the suites launch Chromium: Debian's chromium (`npx playwright install` cannot download
// here), headless, with the flags that work in this sandboxed, offline machine.
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;
