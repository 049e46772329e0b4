/** `45 s`, `12 min`, `7 h 05 min`, `3 d 4 h`: a short age or span for tables and messages. */
export const shortDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${String(m % 60).padStart(2, '0')} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
};

/** `2026-11-23 03:00 UTC`. */
export const utcMinute = (ms: number | string): string =>
  `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
