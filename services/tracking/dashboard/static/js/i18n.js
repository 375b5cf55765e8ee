// Translations: one JSON dictionary per language under ../i18n/, the same keys in each (a
// test checks it). Elements name their text with data-i18n (and data-i18n-aria-label,
// -placeholder, -title); code asks with t(key, {name: value}). The choice is remembered.

const LANGUAGES = ["sr", "en"];
const STORAGE_KEY = "mla.dashboard.language";
let current = "en";
let dictionary = {};
const listeners = [];

export function language() {
  return current;
}

export function t(key, parameters = {}) {
  const text = dictionary[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    name in parameters ? String(parameters[name]) : whole,
  );
}

export function has(key) {
  return key in dictionary;
}

export function onLanguageChange(listener) {
  listeners.push(listener);
}

export function apply(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const attribute of ["aria-label", "placeholder", "title"]) {
    for (const node of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      node.setAttribute(attribute, t(node.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

export function preferredLanguage() {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  // The department works in Serbian; a browser set to English gets English.
  return (navigator.language || "").toLowerCase().startsWith("en") ? "en" : "sr";
}

export async function setLanguage(code) {
  const chosen = LANGUAGES.includes(code) ? code : "en";
  const response = await fetch(`/dashboard/static/i18n/${chosen}.json`, { cache: "no-cache" });
  if (!response.ok) throw new Error(`translations for ${chosen}: ${response.status}`);
  dictionary = await response.json();
  current = chosen;
  localStorage.setItem(STORAGE_KEY, chosen);
  document.documentElement.lang = chosen;
  apply();
  for (const listener of listeners) listener(chosen);
}
