/** Go's time formatting as the SPIRE CLI prints times. */

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** time.Unix(s, 0).UTC().String(): "2006-01-02 15:04:05 +0000 UTC". */
export function goUtcString(seconds: bigint | number): string {
  const d = new Date(Number(seconds) * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

/** time.Unix(s, 0).String() in the local zone: "2006-01-02 15:04:05 -0700 MST". */
export function goLocalString(seconds: bigint | number): string {
  const d = new Date(Number(seconds) * 1000);
  const offsetMin = -d.getTimezoneOffset();
  if (offsetMin === 0 && zoneName(d) === "UTC") return goUtcString(seconds);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  const name = zoneName(d) ?? `${sign}${pad(Math.floor(abs / 60))}${abs % 60 ? pad(abs % 60) : ""}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offset} ${name}`;
}

function zoneName(d: Date): string | undefined {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (tz === "UTC" || tz === "Etc/UTC") return "UTC";
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
  return part && /^[A-Z]{2,5}$/.test(part.value) ? part.value : undefined;
}

/** t.UTC().Format(time.RFC3339): "2006-01-02T15:04:05Z". */
export function goRfc3339Utc(seconds: bigint | number): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
