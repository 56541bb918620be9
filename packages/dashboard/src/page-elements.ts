/**
 * Looks up the pages' elements by id: a missing one is a mistake in the page's HTML, said at
 * once with the page's name rather than as a null dereference later.
 */
export function pageElements(page: string) {
  const element = <T extends HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (found === null) throw new Error(`${page}: #${id} is missing`);
    return found as T;
  };
  return { element, input: (id: string) => element<HTMLInputElement>(id) };
}
