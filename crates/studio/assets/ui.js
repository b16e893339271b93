// Small DOM helpers shared by the pages: elements, a collapsible JSON
// view, accessible tabs, messages. No framework.

/** Creates an element: el("td", {class: "x"}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Says something to the user (role=alert); empty hides it. */
export function message(text) {
  const box = document.getElementById("message");
  box.textContent = text || "";
  box.hidden = !text;
}

/** JSON as a tree of <details> (objects and arrays collapse). */
export function jsonView(value, key = null, open = true) {
  const label = key === null ? [] : [el("span", { class: "key" }, JSON.stringify(key)), ": "];
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    const brackets = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    const summary = el("summary", {}, ...label, brackets[0],
      el("span", { class: "count" }, ` ${entries.length} ${entries.length === 1 ? "entry" : "entries"} `),
      brackets[1]);
    const list = el("div", { class: "members" },
      entries.map(([k, v]) => jsonView(v, Array.isArray(value) ? null : k, false)));
    const details = el("details", { class: "node" }, summary, list);
    details.open = open || entries.length <= 8;
    return details;
  }
  const kind = value === null ? "null" : typeof value;
  return el("div", { class: "leaf" }, ...label, el("span", { class: kind }, JSON.stringify(value)));
}

/** Wires a role=tablist: click and arrow keys move aria-selected and panels. */
export function tabs(list) {
  const all = [...list.querySelectorAll("[role=tab]")];
  const select = (tab, focus) => {
    for (const t of all) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  };
  for (const tab of all) {
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (e) => {
      const i = all.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: all.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(all[(next + all.length) % all.length], true);
    });
  }
  return (id) => select(document.getElementById(id), false);
}

/** A status as a word and a class (colour is never the only signal). */
export function statusCell(status) {
  const n = Number(status);
  const kind = n >= 200 && n < 300 ? "ok" : n >= 400 ? "bad" : "other";
  const word = kind === "ok" ? "OK" : kind === "bad" ? "Error" : "";
  return el("td", { class: `status ${kind}` }, `${status} ${word}`.trim());
}

/** Replaces a container's content. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat());
}
