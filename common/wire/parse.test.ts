import { describe, expect, it } from "vitest";
import { encodeClientbound, encodeEnvelope, encodeServerbound } from "./encode.js";
import type { ClientboundPacket, RelayMessage, ServerboundPacket } from "./packets.js";
import { parseClientbound, parseEnvelope, parseServerbound } from "./parse.js";

const HASH = "ad1f3cf791d29e682f2d2c12d6238647d6c6fd431935cb6daff51b7a0dcd7aae";

describe("parseServerbound follows serde's accept/reject table", () => {
  const accepted: [string, ServerboundPacket][] = [
    ['"ping"', { type: "ping" }],
    ['{"ping":null}', { type: "ping" }],
    [' \n{"ping":null} ', { type: "ping" }],
    ['{"join":{}}', { type: "join", hash: null }],
    ['{"join":{"hash":null}}', { type: "join", hash: null }],
    [`{"join":{"hash":"${HASH}","extra":1}}`, { type: "join", hash: HASH }],
    ['{"relay":{"message":"x"}}', { type: "relay", recipient: null, message: "x" }],
    ['{"relay":{"recipient":null,"message":"x"}}', { type: "relay", recipient: null, message: "x" }],
    ['{"relay":{"recipient":3,"message":"x"}}', { type: "relay", recipient: 3, message: "x" }],
    ['{"watch_rooms":[]}', { type: "watch_rooms", hashes: [] }],
    [`{"watch_rooms":["${HASH}"]}`, { type: "watch_rooms", hashes: [HASH] }],
  ];
  for (const [text, packet] of accepted) {
    it(`accepts ${text.trim()}`, () => {
      expect(parseServerbound(text)).toEqual({ ok: true, value: packet });
    });
  }

  const rejected: [string, string][] = [
    ['{"ping":{}}', "bad_field"],
    ['{"ping":[]}', "bad_field"],
    ['{"ping":0}', "bad_field"],
    ['{"join":null}', "bad_field"],
    ['{"join":{"hash":"abc"}}', "bad_field"],
    [`{"join":{"hash":"${HASH.toUpperCase()}"}}`, "bad_field"],
    ['{"relay":{"recipient":-1,"message":"x"}}', "bad_field"],
    ['{"relay":{"recipient":1.5,"message":"x"}}', "bad_field"],
    ['{"relay":{"recipient":"1","message":"x"}}', "bad_field"],
    ['{"relay":{"recipient":1}}', "bad_field"],
    ['{"relay":{"message":7}}', "bad_field"],
    ['{"watch_rooms":null}', "bad_field"],
    ['{"watch_rooms":[1]}', "bad_field"],
    [`{"ping":null,"join":{"hash":"${HASH}"}}`, "not_one_key"],
    ['{"foo":1}', "unknown_type"],
    ['{"Ping":null}', "unknown_type"],
    ['{"__proto__":{}}', "unknown_type"],
    ["{}", "not_one_key"],
    ["[]", "not_one_key"],
    ["null", "not_one_key"],
    ['"pong"', "not_one_key"],
    ['{"relay":{"message":"x"', "not_json"],
    ["", "not_json"],
  ];
  for (const [text, code] of rejected) {
    it(`rejects ${text || "(empty)"} as ${code}`, () => {
      const result = parseServerbound(text);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe(code);
        expect(result.error.message.length).toBeGreaterThan(0);
      }
    });
  }

  it("never echoes attacker-chosen text in its error message", () => {
    const result = parseServerbound('{"<script>alert(1)</script>":1}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain("script");
  });
});

describe("encodeServerbound produces keks-meet's exact bytes", () => {
  it("encodes every packet", () => {
    expect(encodeServerbound({ type: "ping" })).toBe('{"ping":null}');
    expect(encodeServerbound({ type: "join", hash: HASH })).toBe(`{"join":{"hash":"${HASH}"}}`);
    expect(encodeServerbound({ type: "join", hash: null })).toBe('{"join":{"hash":null}}');
    expect(encodeServerbound({ type: "relay", recipient: 3, message: "m" })).toBe('{"relay":{"recipient":3,"message":"m"}}');
    expect(encodeServerbound({ type: "relay", recipient: null, message: "m" })).toBe('{"relay":{"message":"m"}}');
    expect(encodeServerbound({ type: "watch_rooms", hashes: [HASH] })).toBe(`{"watch_rooms":["${HASH}"]}`);
  });

  it("round-trips through the parser", () => {
    const packets: ServerboundPacket[] = [
      { type: "ping" },
      { type: "join", hash: HASH },
      { type: "join", hash: null },
      { type: "relay", recipient: 9, message: "abc" },
      { type: "relay", recipient: null, message: "abc" },
      { type: "watch_rooms", hashes: [HASH, HASH] },
    ];
    for (const packet of packets) expect(parseServerbound(encodeServerbound(packet))).toEqual({ ok: true, value: packet });
  });
});

describe("client-bound packets", () => {
  it("encodes exactly as keks-meet's server (serde_json compact)", () => {
    expect(encodeClientbound({ type: "init", yourId: 1, version: "keks-meet 1.0.4" })).toBe(
      '{"init":{"your_id":1,"version":"keks-meet 1.0.4"}}',
    );
    expect(encodeClientbound({ type: "client_join", id: 2 })).toBe('{"client_join":{"id":2}}');
    expect(encodeClientbound({ type: "client_leave", id: 2 })).toBe('{"client_leave":{"id":2}}');
    expect(encodeClientbound({ type: "message", sender: 2, message: "b64==" })).toBe(
      '{"message":{"sender":2,"message":"b64=="}}',
    );
    expect(encodeClientbound({ type: "room_info", hash: HASH, userCount: 0 })).toBe(
      `{"room_info":{"hash":"${HASH}","user_count":0}}`,
    );
  });

  it("round-trips every packet", () => {
    const packets: ClientboundPacket[] = [
      { type: "init", yourId: 123456789012, version: "meshmeet 0.1.0" },
      { type: "client_join", id: 5 },
      { type: "client_leave", id: 5 },
      { type: "message", sender: 5, message: 'with "quotes"' },
      { type: "room_info", hash: HASH, userCount: 3 },
      { type: "error", code: "rate_limited", message: "slow down" },
      { type: "turn_credentials", urls: ["turn:t.example:3478?transport=udp"], username: "1764000000:abc", credential: "c2VjcmV0", expiresAt: 1764000000 },
    ];
    for (const packet of packets) expect(parseClientbound(encodeClientbound(packet))).toEqual({ ok: true, value: packet });
  });

  it("encodes turn_credentials in snake_case and refuses what is not a TURN server", () => {
    expect(encodeClientbound({ type: "turn_credentials", urls: ["turns:t.example:443"], username: "1:a", credential: "x", expiresAt: 1 })).toBe(
      '{"turn_credentials":{"urls":["turns:t.example:443"],"username":"1:a","credential":"x","expires_at":1}}',
    );
    const bad = (payload: unknown) => parseClientbound(JSON.stringify({ turn_credentials: payload }));
    const good = { urls: ["turn:t.example:3478"], username: "1:a", credential: "x", expires_at: 1 };
    expect(bad(good).ok).toBe(true);
    expect(bad({ ...good, urls: [] })).toMatchObject({ ok: false, error: { code: "bad_field" } });
    expect(bad({ ...good, urls: ["stun:t.example:3478"] })).toMatchObject({ ok: false });
    expect(bad({ ...good, urls: Array.from({ length: 9 }, () => "turn:t.example") })).toMatchObject({ ok: false });
    expect(bad({ ...good, username: 5 })).toMatchObject({ ok: false });
    expect(bad({ ...good, expires_at: -1 })).toMatchObject({ ok: false });
    expect(bad(null)).toMatchObject({ ok: false });
  });

  it("reports unknown packets as unknown_type so callers can ignore them quietly", () => {
    expect(parseClientbound('{"totally_unknown":{"a":1}}')).toMatchObject({ ok: false, error: { code: "unknown_type" } });
    expect(parseClientbound('{"ping":null}')).toMatchObject({ ok: false, error: { code: "unknown_type" } });
    expect(parseClientbound('{"future":42}')).toMatchObject({ ok: false, error: { code: "unknown_type" } });
  });

  it("rejects wrongly typed known packets", () => {
    expect(parseClientbound('{"init":{"your_id":"1","version":"x"}}')).toMatchObject({ ok: false, error: { code: "bad_field" } });
    expect(parseClientbound('{"client_join":{"id":-4}}')).toMatchObject({ ok: false, error: { code: "bad_field" } });
    expect(parseClientbound('{"message":{"sender":1}}')).toMatchObject({ ok: false, error: { code: "bad_field" } });
    expect(parseClientbound('{"room_info":null}')).toMatchObject({ ok: false, error: { code: "bad_field" } });
    expect(parseClientbound('{"error":{"code":"nope","message":"x"}}')).toMatchObject({ ok: false, error: { code: "bad_field" } });
  });
});

describe("relay envelopes", () => {
  // Plaintexts captured from the real keks-meet client, ids shortened.
  const captured: [string, RelayMessage[]][] = [
    ['{"inner":{"identify":{"username":"alice"}},"sender":1}', [{ type: "identify", username: "alice" }]],
    ['{"inner":{"chat":{"text":"hello from alice"}},"sender":1}', [{ type: "chat", content: { text: "hello from alice" } }]],
    [
      '{"inner":{"provide":{"id":"f40dcb12","kind":"track","track_kind":"video","label":"Camera"}},"sender":1}',
      [{ type: "provide", info: { id: "f40dcb12", kind: "track", trackKind: "video", label: "Camera" } }],
    ],
    [
      '{"inner":{"provide":{"kind":"file","id":"0.44929538348289677","label":"testfile.bin","size":200000}},"sender":1}',
      [{ type: "provide", info: { id: "0.44929538348289677", kind: "file", label: "testfile.bin", size: 200000 } }],
    ],
    ['{"inner":{"request":{"id":"f40dcb12"}},"sender":2}', [{ type: "request", id: "f40dcb12" }]],
    ['{"inner":{"request_stop":{"id":"0.4"}},"sender":2}', [{ type: "request_stop", id: "0.4" }]],
    ['{"inner":{"provide_stop":{"id":"0.4"}},"sender":2}', [{ type: "provide_stop", id: "0.4" }]],
    ['{"inner":{"offer":"v=0\\r\\n"},"sender":1}', [{ type: "offer", sdp: "v=0\r\n" }]],
    ['{"inner":{"answer":"v=0\\r\\n"},"sender":2}', [{ type: "answer", sdp: "v=0\r\n" }]],
    [
      '{"inner":{"ice_candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.2 42970 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"MEeX"}},"sender":1}',
      [
        {
          type: "ice_candidate",
          candidate: { candidate: "candidate:1 1 udp 1 192.0.2.2 42970 typ host", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "MEeX" },
        },
      ],
    ],
    [
      '{"inner":{"preview":{"id":"f40dcb12","data":"data:image/webp;base64,UklGR"}},"sender":1}',
      [{ type: "preview", id: "f40dcb12", data: "data:image/webp;base64,UklGR" }],
    ],
    [
      '{"inner":{"display_size":{"id":"f40dcb12","width":640,"height":360,"later":true}},"sender":1}',
      [{ type: "display_size", id: "f40dcb12", width: 640, height: 360 }],
    ],
    // Native (rift) sends null for absent options.
    [
      '{"sender":3,"inner":{"provide":{"id":"p8080","kind":"port","track_kind":null,"label":"port 8080","size":null}}}',
      [{ type: "provide", info: { id: "p8080", kind: "port", label: "port 8080" } }],
    ],
    [
      '{"sender":3,"inner":{"ice_candidate":{"candidate":"c","sdpMid":null,"sdpMLineIndex":null,"usernameFragment":null}}}',
      [{ type: "ice_candidate", candidate: { candidate: "c", sdpMid: null, sdpMLineIndex: null, usernameFragment: null } }],
    ],
  ];
  for (const [text, messages] of captured) {
    it(`parses ${text.slice(0, 60)}…`, () => {
      const result = parseEnvelope(text);
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.value.messages).toEqual(messages);
        expect(result.value.unknownKeys).toEqual([]);
      }
    });
  }

  it("re-encodes the captured plaintexts byte for byte (web client form)", () => {
    for (const [text, messages] of captured.slice(0, 3)) {
      const [message] = messages;
      if (!message) throw new Error("fixture without message");
      expect(encodeEnvelope(1, message)).toBe(text);
    }
  });

  it("tolerates unknown keys and keeps every known key of a multi-key web message", () => {
    const result = parseEnvelope('{"sender":1,"inner":{"future_thing":{"x":1},"chat":{"text":"a"},"identify":{"username":"b"}}}');
    expect(result).toEqual({
      ok: true,
      value: {
        sender: 1,
        messages: [
          { type: "chat", content: { text: "a" } },
          { type: "identify", username: "b" },
        ],
        unknownKeys: ["future_thing"],
      },
    });
  });

  it("ignores unknown payload fields, and reads our extension fields", () => {
    expect(parseEnvelope('{"sender":1,"inner":{"request":{"id":"x","future":1}}}')).toEqual({
      ok: true,
      value: { sender: 1, messages: [{ type: "request", id: "x" }], unknownKeys: [] },
    });
    expect(parseEnvelope('{"sender":1,"inner":{"request":{"id":"x","offset":1024}}}')).toMatchObject({
      ok: true,
      value: { messages: [{ type: "request", id: "x", offset: 1024 }] },
    });
    expect(parseEnvelope('{"sender":1,"inner":{"request":{"id":"x","offset":-1}}}')).toMatchObject({ ok: false });
    expect(parseEnvelope('{"sender":1,"inner":{"provide":{"id":"f","kind":"file","size":3,"mime":"text/plain"}}}')).toMatchObject({
      ok: true,
      value: { messages: [{ type: "provide", info: { id: "f", kind: "file", size: 3, mimeType: "text/plain" } }] },
    });
  });

  const hostile: [string, string][] = [
    ["not json", "not_json"],
    ["[]", "bad_field"],
    ['{"inner":{}}', "bad_field"],
    ['{"sender":"1","inner":{}}', "bad_field"],
    ['{"sender":1,"inner":[]}', "bad_field"],
    ['{"sender":1,"inner":{"identify":{"username":5}}}', "bad_field"],
    ['{"sender":1,"inner":{"identify":{"username":"a","session_key":"short","session_proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}}', "bad_field"],
    ['{"sender":1,"inner":{"identify":{"username":"a","session_key":7,"session_proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}}}', "bad_field"],
    // A key without its proof, or a proof of the wrong size (a P-256 signature is 64 bytes).
    ['{"sender":1,"inner":{"identify":{"username":"a","session_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}', "bad_field"],
    ['{"sender":1,"inner":{"identify":{"username":"a","session_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","session_proof":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}', "bad_field"],
    // meshmeet's replay stamp: all three keys, well formed, or none.
    ['{"sender":1,"inner":{},"stream":"AAAAAAAAAAAAAAAA","seq":1}', "bad_field"],
    ['{"sender":1,"inner":{},"stream":"short","seq":1,"to":null}', "bad_field"],
    ['{"sender":1,"inner":{},"stream":"AAAAAAAAAAAAAAAA","seq":0,"to":null}', "bad_field"],
    ['{"sender":1,"inner":{},"stream":"AAAAAAAAAAAAAAAA","seq":1.5,"to":null}', "bad_field"],
    ['{"sender":1,"inner":{},"stream":"AAAAAAAAAAAAAAAA","seq":1,"to":"2"}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"j","kind":"jellyfin","duration":-1}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"j","kind":"jellyfin","duration":"90"}}}', "bad_field"],
    ['{"sender":1,"inner":{"chat":{}}}', "bad_field"],
    ['{"sender":1,"inner":{"chat":{"text":"a","image":"b"}}}', "bad_field"],
    ['{"sender":1,"inner":{"chat":{"image":7}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"x"}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"x","kind":"file","size":-1}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"x","kind":"file","size":1e300}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"x","kind":"track","track_kind":"smell"}}}', "bad_field"],
    ['{"sender":1,"inner":{"provide":{"id":"","kind":"file"}}}', "bad_field"],
    [`{"sender":1,"inner":{"request":{"id":"${"x".repeat(257)}"}}}`, "bad_field"],
    ['{"sender":1,"inner":{"offer":{"type":"offer","sdp":"v=0"}}}', "bad_field"],
    ['{"sender":1,"inner":{"ice_candidate":{"candidate":null}}}', "bad_field"],
    ['{"sender":1,"inner":{"ice_candidate":{"candidate":"c","sdpMLineIndex":"0"}}}', "bad_field"],
    ['{"sender":1,"inner":{"preview":{"id":"x"}}}', "bad_field"],
    ['{"sender":1,"inner":{"request_stop":null}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"id":"x","width":0,"height":240}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"id":"x","width":320,"height":16385}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"id":"x","width":320.5,"height":240}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"id":"x","width":"320","height":240}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"id":"x","width":320}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":{"width":320,"height":240}}}', "bad_field"],
    ['{"sender":1,"inner":{"display_size":[320,240]}}', "bad_field"],
  ];
  for (const [text, code] of hostile) {
    it(`rejects ${text.slice(0, 70)} as ${code}`, () => {
      expect(parseEnvelope(text)).toMatchObject({ ok: false, error: { code } });
    });
  }

  it("treats __proto__ as an unknown key without touching prototypes", () => {
    const result = parseEnvelope('{"sender":1,"inner":{"__proto__":{"polluted":true},"request":{"id":"x"}}}');
    expect(result).toMatchObject({ ok: true, value: { unknownKeys: ["__proto__"], messages: [{ type: "request", id: "x" }] } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("takes the identity fields whole or not at all, with a clear error", () => {
    const key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const proof = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    const fingerprint = "sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB";
    const identify = (fields: Record<string, unknown>) => parseEnvelope(JSON.stringify({ sender: 1, inner: { identify: { username: "ana", ...fields } } }));
    expect(identify({ identity_key: key, identity_fingerprints: [fingerprint], identity_proof: proof })).toMatchObject({
      ok: true,
      value: { messages: [{ type: "identify", identity: { key, binding: { fingerprints: [fingerprint], proof } } }] },
    });
    expect(identify({ identity_key: key })).toMatchObject({ ok: true, value: { messages: [{ type: "identify", identity: { key } }] } });
    for (const [fields, field] of [
      [{ identity_key: key, identity_fingerprints: [fingerprint] }, "identity_proof"],
      [{ identity_fingerprints: [fingerprint], identity_proof: proof }, "identity_key"],
      [{ identity_key: key.slice(4), identity_fingerprints: [fingerprint], identity_proof: proof }, "identity_key"],
      [{ identity_key: key, identity_fingerprints: [], identity_proof: proof }, "identity_fingerprints"],
      [{ identity_key: key, identity_fingerprints: ["sha-256 zz"], identity_proof: proof }, "identity_fingerprints"],
      [{ identity_key: key, identity_fingerprints: Array(9).fill(fingerprint), identity_proof: proof }, "identity_fingerprints"],
    ] as const) {
      const result = identify(fields);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.message).toContain(field);
    }
  });

  it("round-trips every message kind through encodeEnvelope", () => {
    const messages: RelayMessage[] = [
      { type: "identify", username: "ana" },
      { type: "identify", username: "ana", claim: { key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", proof: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" } },
      { type: "identify", username: "ana", identity: { key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", binding: { fingerprints: ["sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB"], proof: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==" } } },
      { type: "identify", username: "ana", identity: { key: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } },
      { type: "chat", content: { text: "hi" } },
      { type: "chat", content: { image: "data:image/png;base64,AA==" } },
      { type: "provide", info: { id: "a", kind: "track", trackKind: "audio", label: "Microphone" } },
      { type: "provide", info: { id: "b", kind: "file", label: "x.bin", size: 0 } },
      { type: "provide_stop", id: "a" },
      { type: "request", id: "a" },
      { type: "request", id: "a", offset: 0 },
      { type: "provide", info: { id: "f", kind: "file", label: "a.pdf", size: 10, mimeType: "application/pdf" } },
      { type: "provide", info: { id: "j", kind: "jellyfin", label: "A film", durationS: 5400.5 } },
      { type: "request_stop", id: "a" },
      { type: "offer", sdp: "v=0" },
      { type: "answer", sdp: "v=0" },
      { type: "ice_candidate", candidate: { candidate: "c", sdpMid: "0", sdpMLineIndex: 0, usernameFragment: "u" } },
      { type: "preview", id: "a", data: "data:image/webp;base64,AA" },
      { type: "display_size", id: "a", width: 1, height: 16_384 },
    ];
    for (const message of messages) {
      const text = encodeEnvelope(42, message);
      expect(Object.keys((JSON.parse(text) as { inner: object }).inner)).toHaveLength(1);
      expect(parseEnvelope(text)).toEqual({ ok: true, value: { sender: 42, messages: [message], unknownKeys: [] } });
      const order = { stream: "AbCdEfGhIjKlMn+/", seq: 9, to: 3 };
      expect(parseEnvelope(encodeEnvelope(42, message, order))).toEqual({ ok: true, value: { sender: 42, order, messages: [message], unknownKeys: [] } });
    }
  });
});
