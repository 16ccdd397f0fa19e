import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "./encoding.js";
import { deriveRoomHash, deriveRoomKey, deriveRoomSecrets, open, seal } from "./room-crypto.js";

// The vectors were computed with Node's WebCrypto; the room hashes match what a real keks-meet client sent.
const VECTORS = [
  {
    secret: "hunter2",
    hash: "ad1f3cf791d29e682f2d2c12d6238647d6c6fd431935cb6daff51b7a0dcd7aae",
    key: "94dd89ee5f4ea23cede2dcf38612d82c32908e05ce9b7cbf54670a1e06322994",
  },
  {
    secret: "test",
    hash: "7537fda433234672a67fbc5fba53503e0f042036f45844d143582b10f11e6598",
    key: "70a15332e840f257a9974fbb067a40db3cbf15d7c5cc03483923de4e460e3025",
  },
  {
    secret: "SweetStrawberryMuffin#00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    hash: "0051e0ad1434a9ff7d3813b44528e7e8fa54ba5349a745678003b448112e115e",
    key: "384c4b8cad306f6882c8a3bad4bc8fad10ad5da707723ce9e73d09e2dad2151b",
  },
  {
    secret: "",
    hash: "f0ceda056290898a87b07ad8c9ecf073d4579977bc38892c12952844a094067c",
    key: "7f6afbb330e968780fda8f51b9924e6debaaad23b5f10e46c6b0f364b05c661f",
  },
  { secret: "kmtest-room-secret-1234", hash: "fbeeaddb652197642bc36d30351ed0a49f27ca532f251e570299d3fdd96056a0" },
  { secret: "probe-room-secret-5678", hash: "e88d4fa6aaafdc358ad91d7bc7acfa668d0e8d54aa0395eb129478e70000dabc" },
] as const;

async function rawKey(key: CryptoKey): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.exportKey("raw", key)));
}

describe("room derivations", () => {
  for (const v of VECTORS) {
    it(`derives the room hash of ${JSON.stringify(v.secret)}`, async () => {
      expect(await deriveRoomHash(v.secret)).toBe(v.hash);
    });
    if ("key" in v) {
      it(`derives the message key of ${JSON.stringify(v.secret)}`, async () => {
        expect(await rawKey(await deriveRoomKey(v.secret, true))).toBe(v.key);
      });
    }
  }

  it("derives hash and a non-extractable key together", async () => {
    const secrets = await deriveRoomSecrets("hunter2");
    expect(secrets.hash).toBe(VECTORS[0].hash);
    expect(secrets.key.extractable).toBe(false);
    expect(secrets.key.algorithm).toMatchObject({ name: "AES-GCM", length: 256 });
  });
});

describe("seal/open", () => {
  const PLAINTEXT = '{"inner":{"identify":{"username":"alice"}},"sender":1}';
  const WIRE =
    "AAECAwQFBgcICQoLc5R5cgLwxFSRZt+sS855jABxNS8jfrqHZUH2N24CoJEan7vXieNb8/sXg0EkM59wxd5GGCqRwqSeIdUY/OrgXopzJoWIVQ==";

  it("matches the spec's encryption vector", async () => {
    const key = await deriveRoomKey("hunter2");
    const iv = hexToBytes("000102030405060708090a0b");
    expect(await seal(key, PLAINTEXT, iv)).toBe(WIRE);
    expect(await open(key, WIRE)).toEqual({ ok: true, value: PLAINTEXT });
  });

  it("uses a fresh random IV for every seal", async () => {
    const key = await deriveRoomKey("hunter2");
    const a = await seal(key, "same");
    const b = await seal(key, "same");
    expect(a).not.toBe(b);
  });

  it("reports every way an open can fail as a typed error", async () => {
    const key = await deriveRoomKey("hunter2");
    const otherKey = await deriveRoomKey("test");
    expect(await open(otherKey, WIRE)).toMatchObject({ ok: false, error: { code: "auth_failed" } });
    expect(await open(key, "not base64!")).toMatchObject({ ok: false, error: { code: "bad_base64" } });
    expect(await open(key, "AAAA")).toMatchObject({ ok: false, error: { code: "too_short" } });
    // Flip one ciphertext bit: authentication must fail.
    const bytes = Uint8Array.from(atob(WIRE), (c) => c.charCodeAt(0));
    bytes[20] = (bytes[20] ?? 0) ^ 1;
    const tampered = btoa(String.fromCharCode(...bytes));
    expect(await open(key, tampered)).toMatchObject({ ok: false, error: { code: "auth_failed" } });
    // Valid seal over bytes that are not UTF-8.
    const raw = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array([0xff, 0xfe])));
    const sealedBinary = btoa(String.fromCharCode(...new Uint8Array(12), ...raw));
    expect(await open(key, sealedBinary)).toMatchObject({ ok: false, error: { code: "bad_utf8" } });
  });
});
