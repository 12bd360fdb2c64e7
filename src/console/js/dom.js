// @ts-check
/**
 * An element with attributes and children. Text is always set as text, never
 * parsed as HTML, so nothing a message contains can run in the page.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | boolean | undefined>} [attributes]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/**
 * The element with this id; a missing one is a bug in the page.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new (...args: any[]) => T} [type]
 * @returns {T}
 */
export function byId(id, type) {
  const node = document.getElementById(id);
  if (!node || (type && !(node instanceof type))) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (node);
}

/** @param {string | null | undefined} iso */
export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

/**
 * Shows a line in a status region (role=status or alert): screen readers read it out.
 * @param {HTMLElement} region
 * @param {string} text
 * @param {"info" | "error" | "ok"} [tone]
 */
export function say(region, text, tone = "info") {
  region.textContent = text;
  region.dataset.tone = tone;
}
