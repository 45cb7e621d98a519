// Calls to the service's REST API; a refusal becomes an Error carrying the API's message.
export async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error(json?.error?.message ?? `${method} ${path}: HTTP ${res.status}`);
    err.status = res.status;
    err.code = json?.error?.code;
    throw err;
  }
  return json;
}

export const short = (hex, n = 10) => (hex && hex.length > n + 4 ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex ?? "");
/** OPEN base units (18 decimals) as OPEN, exactly. */
export function open(units) {
  const v = BigInt(units);
  const whole = v / 10n ** 18n, frac = (v % 10n ** 18n).toString().padStart(18, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}

export const fmt = (x, digits = 3) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits));
