// Dates, durations, numbers and coded values as the chosen language writes them.

import { has, language, t } from "./i18n.js";

function locale() {
  return language() === "sr" ? "sr-Latn-RS" : "en-GB";
}

export function dateTime(iso) {
  if (!iso) return t("common.none");
  const value = new Date(iso);
  if (Number.isNaN(value.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
    value,
  );
}

export function date(iso) {
  if (!iso) return t("common.none");
  const value = new Date(iso);
  if (Number.isNaN(value.getTime())) return String(iso);
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium" }).format(value);
}

export function shortDate(iso) {
  const value = new Date(iso);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "numeric" }).format(value);
}

export function number(value) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value);
}

export function hours(value) {
  if (value === null || value === undefined) return t("common.none");
  if (value < 1) return t("duration.minutes", { value: number(Math.round(value * 60)) });
  if (value < 48) return t("duration.hours", { value: number(value) });
  return t("duration.days", { value: number(value / 24) });
}

// A coded value (`status.routed`, `channel.direct`) in words; an unknown code as written.
export function label(group, value) {
  if (value === null || value === undefined || value === "") return t("common.none");
  const key = `${group}.${value}`;
  return has(key) ? t(key) : String(value).replace(/_/g, " ");
}

export function eventLabel(type) {
  return label("event", type);
}
