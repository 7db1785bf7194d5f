// Times on the admin page: the browser's local time, minutes only ("2026-12-07 10:43");
// the exact ISO time is the <time> element's title and dateTime.

export function shortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The end of a UTC day picked in a date field: a key "expiring on" a day works through that day. */
export function endOfUtcDay(day: string): string {
  return `${day}T23:59:59.999Z`;
}
