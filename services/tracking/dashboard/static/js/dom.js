// Building the page from data without ever parsing data as HTML: every text goes in as
// text, so nothing a request carries can run as script (and the CSP forbids inline code).

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

// Several refreshes asked for within `wait` ms become one, at most every `wait` ms: a burst
// of events must not send a burst of requests.
export function throttled(action, wait) {
  let timer = null;
  let again = false;
  return function schedule() {
    if (timer) {
      again = true;
      return;
    }
    timer = setTimeout(async () => {
      try {
        await action();
      } finally {
        timer = null;
        if (again) {
          again = false;
          schedule();
        }
      }
    }, wait);
  };
}
