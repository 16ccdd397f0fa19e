// The `Authorization: MediaBrowser …` header Jellyfin reads device and token from.
// Values are URI-encoded, as @jellyfin/sdk does, so a device name with quotes or commas
// cannot break the key="value" list. DOM-free: the test fixture imports the parser in Node.

export interface AuthorizationFields {
  /** App name, shown in Jellyfin's device list. */
  readonly client: string;
  /** Device name, shown in Jellyfin's device list. */
  readonly device: string;
  /** Stable per-browser id: Jellyfin ties sessions and active encodings to it. */
  readonly deviceId: string;
  readonly version: string;
  /** Omitted before login. */
  readonly token?: string;
}

export function buildAuthorization(fields: AuthorizationFields): string {
  const pairs: [string, string][] = [
    ["Client", fields.client],
    ["Device", fields.device],
    ["DeviceId", fields.deviceId],
    ["Version", fields.version],
  ];
  if (fields.token !== undefined && fields.token !== "") pairs.push(["Token", fields.token]);
  return `MediaBrowser ${pairs.map(([key, value]) => `${key}="${encodeURIComponent(value)}"`).join(", ")}`;
}

/**
 * Every key="value" pair in `header`, values URI-decoded. Tolerant on purpose: any scheme word
 * (MediaBrowser, Emby) or none, any spacing, missing commas. A value that is not valid
 * URI-encoding (a client that did not encode) is kept as written rather than dropped.
 */
export function parseAuthorization(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of header.matchAll(/([A-Za-z][A-Za-z0-9_-]*)\s*=\s*"([^"]*)"/g)) {
    const key = match[1];
    const raw = match[2];
    if (key === undefined || raw === undefined || key === "__proto__") continue;
    out[key] = decodeLenient(raw);
  }
  return out;
}

function decodeLenient(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // A raw "%" from a non-encoding client: the literal text is the best reading of it.
    return value;
  }
}
