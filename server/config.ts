// TOML → validated, typed relay configuration. config/default.toml is the complete default; a
// user's file is laid over it section by section and may set only some keys. Everything else
// in server/ takes a RelayConfig object, never reads files or the environment (main.ts does).
//
// Errors are thrown (ConfigError): configuration is read once at start, and a bad file must stop
// the relay with a message naming the key, not run with a guess.

import { parse } from "smol-toml";
import { DEFAULT_CONFIG_TOML } from "./default-config.js";

export { DEFAULT_CONFIG_TOML };

export interface ServerConfig {
  /** `host:port` or `[ipv6]:port`; port 0 picks a free port. */
  readonly bind: string;
  /** Exact origins allowed to open /signaling; empty allows any. */
  readonly allowedOrigins: readonly string[];
  /** Use the last X-Forwarded-For entry as the client address. */
  readonly trustForwardedFor: boolean;
}

/** Reasons for every default are in config/default.toml. */
export interface LimitsConfig {
  readonly maxFrameBytes: number;
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  readonly errorBurst: number;
  readonly errorsPerSecond: number;
  readonly maxSockets: number;
  readonly maxSocketsPerIp: number;
  readonly maxRoomMembers: number;
  readonly maxWatchedRooms: number;
  readonly idleTimeoutSeconds: number;
  readonly pingIntervalSeconds: number;
  readonly maxSendBufferBytes: number;
}

export interface WebRtcConfig {
  readonly stun: readonly string[];
  readonly turn: readonly string[];
  readonly turnUser: string | null;
  readonly turnCred: string | null;
}

/** The relay's own STUN server ([stun] in config/default.toml). */
export interface StunConfig {
  readonly enabled: boolean;
  /** `host:port` of the UDP socket; null follows server.bind (see stunBindAddress). */
  readonly bind: string | null;
  /** Host name put in the `stun:` URL browsers get; null: the host the page was loaded from. */
  readonly publicHost: string | null;
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
}

/** TURN through an external server (coturn) with short-lived credentials minted per socket. */
export interface TurnConfig {
  /** turn:/turns: URLs of the TURN server; empty means no minted TURN credentials. */
  readonly urls: readonly string[];
  /** coturn's static-auth-secret; null exactly when `urls` is empty. Never leaves the relay. */
  readonly secret: string | null;
  readonly credentialLifetimeSeconds: number;
}

/** keks-meet's colour keys, as `#rrggbb`. */
export interface AppearanceConfig {
  readonly accent: string;
  readonly accentLight: string;
  readonly accentDark: string;
  readonly background: string;
  readonly backgroundDark: string;
  readonly backgroundLight: string;
}

export interface RelayConfig {
  readonly server: ServerConfig;
  readonly limits: LimitsConfig;
  readonly webrtc: WebRtcConfig;
  readonly stun: StunConfig;
  readonly turn: TurnConfig;
  readonly appearance: AppearanceConfig;
  readonly jellyfin: JellyfinConfig;
}

export interface JellyfinConfig {
  /**
   * Jellyfin servers the page may talk to (watch-together): origins, or ["*"] for any http(s)
   * server. Becomes the CSP's connect-src; empty turns watch-together off.
   */
  readonly servers: readonly string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Largest growth of a relayed message over the frame that carried it (`{"message":{"sender":…`
 * with a 15-digit id against `{"relay":{…`). The send buffer must hold one largest message.
 */
const RELAY_OVERHEAD_BYTES = 1024;

const SECTION_KEYS: Readonly<Record<string, readonly string[]>> = {
  server: ["bind", "allowed_origins", "trust_forwarded_for"],
  limits: [
    "max_frame_bytes",
    "messages_per_second",
    "message_burst",
    "bytes_per_second",
    "byte_burst",
    "error_burst",
    "errors_per_second",
    "max_sockets",
    "max_sockets_per_ip",
    "max_room_members",
    "max_watched_rooms",
    "idle_timeout_seconds",
    "ping_interval_seconds",
    "max_send_buffer_bytes",
  ],
  webrtc: ["stun", "turn", "turn_user", "turn_cred"],
  stun: ["enabled", "bind", "public_host", "requests_per_second", "request_burst"],
  turn: ["urls", "secret", "credential_lifetime_seconds"],
  appearance: ["accent", "accent_light", "accent_dark", "background", "background_dark", "background_light"],
  jellyfin: ["servers"],
};

type Table = { readonly [key: string]: unknown };

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (isTable(value)) return "a table";
  return `a ${typeof value}`;
}

function parseToml(text: string, source: string): Table {
  try {
    return parse(text, { unsafeKeyBehaviour: "throw" });
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError(`${source}: invalid TOML: ${detail}`, { cause });
  }
}

/** Checks sections and keys against SECTION_KEYS; a typo is named, with what was meant. */
function checkKeys(document: Table, source: string): void {
  for (const [section, values] of Object.entries(document)) {
    const known = SECTION_KEYS[section];
    if (known === undefined) {
      throw new ConfigError(`${source}: unknown section [${section}] (known: ${Object.keys(SECTION_KEYS).join(", ")})`);
    }
    if (!isTable(values)) throw new ConfigError(`${source}: ${section} must be a [${section}] table, got ${describe(values)}`);
    for (const key of Object.keys(values)) {
      if (!known.includes(key)) {
        throw new ConfigError(`${source}: unknown key ${section}.${key} (known in [${section}]: ${known.join(", ")})`);
      }
    }
  }
}

/** Reads typed values from one merged section; every read names `section.key` on failure. */
class SectionReader {
  constructor(
    private readonly section: string,
    private readonly values: Table,
  ) {}

  private fail(key: string, expected: string, value: unknown): never {
    throw new ConfigError(`config: ${this.section}.${key} must be ${expected}, got ${describe(value)}`);
  }

  private value(key: string): unknown {
    if (!Object.hasOwn(this.values, key)) throw new ConfigError(`config: ${this.section}.${key} is missing`);
    return this.values[key];
  }

  string(key: string): string {
    const value = this.value(key);
    return typeof value === "string" ? value : this.fail(key, "a string", value);
  }

  optionalString(key: string): string | null {
    if (!Object.hasOwn(this.values, key)) return null;
    return this.string(key);
  }

  bool(key: string): boolean {
    const value = this.value(key);
    return typeof value === "boolean" ? value : this.fail(key, "true or false", value);
  }

  /** A list of strings; a single string is taken as a list of one (keks-meet's `stun = "…"`). */
  stringList(key: string): string[] {
    const value = this.value(key);
    if (typeof value === "string") return [value];
    if (Array.isArray(value) && value.every((item): item is string => typeof item === "string")) return [...value];
    return this.fail(key, "a list of strings", value);
  }

  positiveInteger(key: string): number {
    const value = this.value(key);
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return value;
    return this.fail(key, "a positive integer", value);
  }

  positiveNumber(key: string): number {
    const value = this.value(key);
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
    return this.fail(key, "a positive number", value);
  }

  colour(key: string): string {
    const value = this.string(key);
    if (!/^#[0-9a-fA-F]{6}$/.test(value)) {
      throw new ConfigError(`config: ${this.section}.${key} must be a colour as #rrggbb, got "${value}"`);
    }
    return value;
  }

  urls(key: string, schemes: readonly string[]): string[] {
    const urls = this.stringList(key);
    for (const url of urls) {
      if (!schemes.some((scheme) => url.startsWith(`${scheme}:`))) {
        throw new ConfigError(`config: ${this.section}.${key} entries must start with ${schemes.join(": or ")}:, got "${url}"`);
      }
    }
    return urls;
  }

  /** A DNS name or IP address (IPv6 without brackets); `""` is null. */
  hostName(key: string): string | null {
    const value = this.string(key);
    if (value === "") return null;
    if (!isHostName(value)) {
      throw new ConfigError(`config: ${this.section}.${key} must be a host name or an IP address (no scheme, no port), got "${value}"`);
    }
    return value;
  }

  /** Like origins(), or exactly ["*"] for any. */
  originsOrAny(key: string): string[] {
    const list = this.stringList(key);
    if (list.includes("*")) {
      if (list.length > 1) throw new ConfigError(`config: ${this.section}.${key} is either ["*"] or a list of origins, not both`);
      return list;
    }
    return this.origins(key);
  }

  origins(key: string): string[] {
    const origins = this.stringList(key);
    for (const origin of origins) {
      if (!isOrigin(origin)) {
        throw new ConfigError(
          `config: ${this.section}.${key} entries must be origins like https://meet.example.org (no path, no trailing slash), got "${origin}"`,
        );
      }
    }
    return origins;
  }
}

/** DNS names (letters, digits, hyphens, dots), IPv4, or bare IPv6: what fits into `stun:<host>:<port>`. */
export function isHostName(text: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(text) || /^[0-9A-Fa-f:.]+$/.test(text) && text.includes(":");
}

function isOrigin(text: string): boolean {
  try {
    return new URL(text).origin === text;
  } catch {
    // Not a URL at all: the caller reports it as a bad origin.
    return false;
  }
}

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port` or `[ipv6]:port` → parts. Throws ConfigError naming `what` and the value. */
export function parseBind(bind: string, what = "server.bind"): BindAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(bind);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`${what} must be host:port or [ipv6]:port, got "${bind}"`);
  }
  return { host, port };
}

function readConfig(merged: Readonly<Record<string, Table>>): RelayConfig {
  const section = (name: string): SectionReader => new SectionReader(name, merged[name] ?? {});
  const server = section("server");
  const limits = section("limits");
  const webrtc = section("webrtc");
  const appearance = section("appearance");
  const stun = section("stun");
  const turn = section("turn");
  const jellyfin = section("jellyfin");

  const bind = server.string("bind");
  parseBind(bind, "config: server.bind");
  const config: RelayConfig = {
    server: {
      bind,
      allowedOrigins: server.originsOrAny("allowed_origins"),
      trustForwardedFor: server.bool("trust_forwarded_for"),
    },
    limits: {
      maxFrameBytes: limits.positiveInteger("max_frame_bytes"),
      messagesPerSecond: limits.positiveNumber("messages_per_second"),
      messageBurst: limits.positiveInteger("message_burst"),
      bytesPerSecond: limits.positiveNumber("bytes_per_second"),
      byteBurst: limits.positiveInteger("byte_burst"),
      errorBurst: limits.positiveInteger("error_burst"),
      errorsPerSecond: limits.positiveNumber("errors_per_second"),
      maxSockets: limits.positiveInteger("max_sockets"),
      maxSocketsPerIp: limits.positiveInteger("max_sockets_per_ip"),
      maxRoomMembers: limits.positiveInteger("max_room_members"),
      maxWatchedRooms: limits.positiveInteger("max_watched_rooms"),
      idleTimeoutSeconds: limits.positiveNumber("idle_timeout_seconds"),
      pingIntervalSeconds: limits.positiveNumber("ping_interval_seconds"),
      maxSendBufferBytes: limits.positiveInteger("max_send_buffer_bytes"),
    },
    webrtc: {
      stun: webrtc.urls("stun", ["stun", "stuns"]),
      turn: webrtc.urls("turn", ["turn", "turns"]),
      turnUser: webrtc.optionalString("turn_user"),
      turnCred: webrtc.optionalString("turn_cred"),
    },
    stun: {
      enabled: stun.bool("enabled"),
      bind: stunBind(stun.string("bind")),
      publicHost: stun.hostName("public_host"),
      requestsPerSecond: stun.positiveNumber("requests_per_second"),
      requestBurst: stun.positiveInteger("request_burst"),
    },
    turn: readTurn(turn),
    appearance: {
      accent: appearance.colour("accent"),
      accentLight: appearance.colour("accent_light"),
      accentDark: appearance.colour("accent_dark"),
      background: appearance.colour("background"),
      backgroundDark: appearance.colour("background_dark"),
      backgroundLight: appearance.colour("background_light"),
    },
    jellyfin: { servers: jellyfin.originsOrAny("servers") },
  };
  checkConsistency(config.limits);
  if (!config.stun.enabled && config.webrtc.stun.length === 0) {
    // keks-meet's web client builds its ICE servers from webrtc.stun and cannot start a single
    // peer connection without a valid STUN URL there.
    throw new ConfigError("config: with stun.enabled = false, set webrtc.stun to a STUN server (keks-meet clients need one)");
  }
  return config;
}

function stunBind(value: string): string | null {
  if (value === "") return null;
  parseBind(value, "config: stun.bind");
  return value;
}

/**
 * Where the STUN socket listens: stun.bind, or server.bind's host on port 3478. When server.bind
 * asks for a free port (0, tests running many relays at once), so does STUN.
 */
export function stunBindAddress(config: RelayConfig): BindAddress {
  if (config.stun.bind !== null) return parseBind(config.stun.bind);
  const { host, port } = parseBind(config.server.bind);
  return { host, port: port === 0 ? 0 : STUN_DEFAULT_PORT };
}

/** The port STUN servers listen on by convention (RFC 8489 §18.6). */
export const STUN_DEFAULT_PORT = 3478;

/**
 * Shorter secrets could be guessed offline from one minted credential (the username and its
 * HMAC are both visible to the client): 16 characters of a random secret are well past that.
 */
const MIN_TURN_SECRET_CHARS = 16;

function readTurn(turn: SectionReader): TurnConfig {
  const urls = turn.urls("urls", ["turn", "turns"]);
  const secret = turn.string("secret");
  const credentialLifetimeSeconds = turn.positiveInteger("credential_lifetime_seconds");
  if (urls.length === 0 && secret === "") return { urls, secret: null, credentialLifetimeSeconds };
  if (urls.length === 0) throw new ConfigError("config: turn.secret is set but turn.urls is empty: list the TURN server's URLs");
  if (secret.length < MIN_TURN_SECRET_CHARS) {
    throw new ConfigError(`config: turn.secret must be at least ${MIN_TURN_SECRET_CHARS} characters (the same as coturn's static-auth-secret)`);
  }
  if (credentialLifetimeSeconds < 120) {
    // Credentials are renewed a minute before they expire; shorter lifetimes would renew forever.
    throw new ConfigError("config: turn.credential_lifetime_seconds must be at least 120");
  }
  return { urls, secret, credentialLifetimeSeconds };
}

/** Limits that only make sense together: otherwise some allowed frame could never be delivered. */
function checkConsistency(limits: LimitsConfig): void {
  if (limits.byteBurst < limits.maxFrameBytes) {
    throw new ConfigError("config: limits.byte_burst must be at least limits.max_frame_bytes, or the largest frames are always rate-limited");
  }
  if (limits.maxSendBufferBytes < limits.maxFrameBytes + RELAY_OVERHEAD_BYTES) {
    throw new ConfigError(
      `config: limits.max_send_buffer_bytes must be at least limits.max_frame_bytes + ${RELAY_OVERHEAD_BYTES}, or the largest messages close their recipients`,
    );
  }
}

/**
 * The default configuration with `tomlText` (a user's file, possibly partial) laid over it.
 * Throws ConfigError for invalid TOML, unknown sections or keys, wrong types and bad values.
 */
export function loadConfig(tomlText?: string): RelayConfig {
  const defaults = parseToml(DEFAULT_CONFIG_TOML, "config/default.toml");
  checkKeys(defaults, "config/default.toml");
  const user = tomlText === undefined ? {} : parseToml(tomlText, "config");
  checkKeys(user, "config");
  const merged: Record<string, Table> = {};
  for (const name of Object.keys(SECTION_KEYS)) {
    const base = defaults[name];
    const override = user[name];
    merged[name] = { ...(isTable(base) ? base : {}), ...(isTable(override) ? override : {}) };
  }
  return readConfig(merged);
}

/** The environment's `BIND` (host:port) over `server.bind`; unset or empty leaves it. */
export function withBindOverride(config: RelayConfig, bind: string | undefined): RelayConfig {
  if (bind === undefined || bind === "") return config;
  parseBind(bind, "BIND");
  return { ...config, server: { ...config.server, bind } };
}
