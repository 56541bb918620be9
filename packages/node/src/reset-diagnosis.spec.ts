// diagnoseReset and probeHttp2 against small local servers that each behave one way: every
// reading of a probe, and how many probes each diagnosis takes. Each test has its own deadline,
// below the probes' own 5 s timeout, so a regression fails naming it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { getEventListeners } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createH2cServer, createSecureServer } from "node:http2";
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import {
  createTestPki,
  issueCollaborator,
  type TestPki,
} from "@openfl-connect/reference-aggregator/pki";
import { probeHttp2 } from "./connection-probe.js";
import { type DiagnosisTarget, diagnoseReset } from "./reset-diagnosis.js";
import type { ClientIdentity } from "./tls-material.js";

const BOUNDED = { timeout: 4_000 };

let dir: string;
let pki: TestPki;
let foreign: TestPki;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "openfl-reset-diagnosis-"));
  pki = await createTestPki(join(dir, "pki"), { collaborators: ["one"] });
  foreign = await createTestPki(join(dir, "foreign"), { collaborators: [] });
});
after(() => rm(dir, { recursive: true, force: true }));

const serverTls = (): TlsOptions => ({
  key: readFileSync(pki.server.key),
  cert: readFileSync(pki.server.cert),
});

/** A listening server on 127.0.0.1 that counts the TCP connections it accepted. */
async function listening<S extends Server>(server: S) {
  let connections = 0;
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function identity(certFile: string, source = certFile): ClientIdentity {
  return {
    cert: readFileSync(certFile),
    key: Buffer.alloc(0),
    leaf: new X509Certificate(readFileSync(certFile)),
    source,
  };
}

function target(port: number, tls: DiagnosisTarget["tls"], id?: ClientIdentity): DiagnosisTarget {
  return { host: "127.0.0.1", port, target: `127.0.0.1:${port}`, tls, clientIdentity: id };
}

/** Sends `bytes` and closes (reading what comes, so that the close completes). */
function sendAndClose(socket: Socket, bytes: number[]) {
  socket.resume();
  socket.end(Buffer.from(bytes));
}

/** TLS options of a client trusting the test CA, presenting collaborator "one" if `withCert`. */
function clientTls(withCert: boolean) {
  const one = pki.collaborators.one;
  return {
    ca: readFileSync(pki.caCert),
    ...(withCert && one ? { cert: readFileSync(one.cert), key: readFileSync(one.key) } : {}),
  };
}

/** A TLS server that completes every handshake, then closes without a byte (grpcio refusing). */
const droppingAfterHandshake = (options: TlsOptions = {}) =>
  listening(createTlsServer({ ...serverTls(), ...options }, (socket) => socket.destroy()));

describe("diagnoseReset over TLS", () => {
  it(
    "two fresh connections dropped right after the handshake: the certificate is refused, named with CN, issuer and dates",
    BOUNDED,
    async () => {
      const server = await droppingAfterHandshake();
      try {
        const one = pki.collaborators.one?.cert ?? "";
        const seen = await diagnoseReset(target(server.port, clientTls(true), identity(one)));
        assert.equal(seen?.t, "client-certificate-refused");
        const leaf = new X509Certificate(readFileSync(one));
        assert.equal(
          seen?.failure,
          `the aggregator at 127.0.0.1:${server.port} closed two fresh connections in a row before sending a byte, right at the TLS handshake (the way a gRPC server refuses a client certificate): it does not accept the client certificate ${one} (CN 'one', issued by '${/CN=([^\n]+)/.exec(leaf.issuer)?.[1]}', valid until ${new Date(leaf.validTo).toISOString()}); check that the federation's CA signed it and that it has not expired or been revoked`,
        );
        assert.equal(server.connections(), 2);
      } finally {
        await server.close();
      }
    },
  );

  it(
    "without a client certificate, the refusal says none was presented and what to give",
    BOUNDED,
    async () => {
      const server = await droppingAfterHandshake();
      try {
        const seen = await diagnoseReset(target(server.port, clientTls(false)));
        assert.equal(seen?.t, "client-certificate-refused");
        assert.match(
          seen?.failure ?? "",
          /: it requires a client certificate and this client presents none \(requireClientAuth is false\); give certificate and privateKey$/,
        );
      } finally {
        await server.close();
      }
    },
  );

  it("an expired client certificate is called EXPIRED with its date", BOUNDED, async () => {
    const now = Date.now();
    const old = await issueCollaborator(pki, "old", {
      validity: {
        notBefore: new Date(now - 30 * 86_400_000),
        notAfter: new Date(now - 86_400_000),
      },
    });
    const server = await droppingAfterHandshake();
    try {
      const seen = await diagnoseReset(target(server.port, clientTls(false), identity(old.cert)));
      const notAfter = new Date(new X509Certificate(readFileSync(old.cert)).validTo);
      assert.ok(
        seen?.failure.includes(`CN 'old'`) &&
          seen.failure.includes(`, EXPIRED on ${notAfter.toISOString()})`),
        seen?.failure,
      );
    } finally {
      await server.close();
    }
  });

  it(
    "a TLS 1.3-only server that drops: the TLS 1.2 probe is refused for its version, a third plain probe confirms",
    BOUNDED,
    async () => {
      const server = await droppingAfterHandshake({ minVersion: "TLSv1.3" });
      try {
        const seen = await diagnoseReset(target(server.port, clientTls(true)));
        assert.equal(seen?.t, "client-certificate-refused");
        assert.equal(server.connections(), 3);
      } finally {
        await server.close();
      }
    },
  );

  it(
    "a server that drops once and then answers: the reset may pass (nothing said), after two probes",
    BOUNDED,
    async () => {
      const h2 = createSecureServer({ ...serverTls(), allowHTTP1: false });
      let first = true;
      h2.prependListener("secureConnection", (socket: Socket) => {
        if (first) socket.destroy();
        first = false;
      });
      const server = await listening(h2);
      try {
        assert.equal(await diagnoseReset(target(server.port, clientTls(true))), undefined);
        assert.equal(server.connections(), 2);
      } finally {
        await server.close();
      }
    },
  );

  it("an HTTP/2 server that answers at once: nothing said, after one probe", BOUNDED, async () => {
    const server = await listening(createSecureServer(serverTls()));
    try {
      assert.equal(await diagnoseReset(target(server.port, clientTls(true))), undefined);
      assert.equal(server.connections(), 1);
    } finally {
      await server.close();
    }
  });

  it(
    "a relay that closes before any TLS (its upstream is down): nothing said, after one probe",
    BOUNDED,
    async () => {
      const server = await listening(createTcpServer((socket) => socket.destroy()));
      try {
        assert.equal(await diagnoseReset(target(server.port, clientTls(true))), undefined);
        assert.equal(server.connections(), 1);
      } finally {
        await server.close();
      }
    },
  );

  it(
    "a server alerting that it requires a client certificate: refused after one probe",
    BOUNDED,
    async () => {
      // TLS 1.2, where the server's alert is part of the handshake the probe sees.
      const server = await listening(
        createTlsServer({
          ...serverTls(),
          requestCert: true,
          rejectUnauthorized: true,
          ca: readFileSync(pki.caCert),
          maxVersion: "TLSv1.2",
        }),
      );
      try {
        const seen = await diagnoseReset(target(server.port, clientTls(false)));
        assert.deepEqual(seen, {
          t: "client-certificate-refused",
          failure: "the aggregator rejected this collaborator's TLS client certificate",
        });
        assert.equal(server.connections(), 1);
      } finally {
        await server.close();
      }
    },
  );

  it("a server certificate that does not verify: said after one probe", BOUNDED, async () => {
    const server = await droppingAfterHandshake();
    try {
      const tls = { ca: readFileSync(foreign.caCert) };
      const seen = await diagnoseReset(target(server.port, tls));
      assert.equal(seen?.t, "server-certificate");
      assert.equal(server.connections(), 1);
    } finally {
      await server.close();
    }
  });

  it("nothing listening (ECONNREFUSED): nothing said", BOUNDED, async () => {
    const server = await listening(createTcpServer());
    await server.close();
    assert.equal(await diagnoseReset(target(server.port, clientTls(true))), undefined);
  });
});

describe("diagnoseReset in clear text (useTls: false)", () => {
  it(
    "against a TLS server: says useTls is false but the aggregator speaks TLS",
    BOUNDED,
    async () => {
      const server = await listening(createSecureServer(serverTls()));
      try {
        const seen = await diagnoseReset(target(server.port, undefined));
        assert.deepEqual(seen, {
          t: "protocol-mismatch",
          failure: `useTls is false, but the aggregator at 127.0.0.1:${server.port} speaks TLS (it dropped a clear-text HTTP/2 connection and completed a TLS handshake); set useTls: true (the default) and give its CA as rootCertificate`,
        });
      } finally {
        await server.close();
      }
    },
  );

  it(
    "against a TLS server that requires a client certificate: still a protocol mismatch",
    BOUNDED,
    async () => {
      const server = await listening(
        createTlsServer({
          ...serverTls(),
          requestCert: true,
          rejectUnauthorized: true,
          ca: readFileSync(pki.caCert),
          maxVersion: "TLSv1.2",
        }),
      );
      try {
        assert.equal((await diagnoseReset(target(server.port, undefined)))?.t, "protocol-mismatch");
      } finally {
        await server.close();
      }
    },
  );

  it("against a clear-text HTTP/2 server: nothing said, after one probe", BOUNDED, async () => {
    const server = await listening(createH2cServer());
    try {
      assert.equal(await diagnoseReset(target(server.port, undefined)), undefined);
      assert.equal(server.connections(), 1);
    } finally {
      await server.close();
    }
  });

  it(
    "against a relay that closes every connection: nothing said (it speaks no TLS either)",
    BOUNDED,
    async () => {
      const server = await listening(createTcpServer((socket) => socket.destroy()));
      try {
        assert.equal(await diagnoseReset(target(server.port, undefined)), undefined);
        assert.equal(server.connections(), 2);
      } finally {
        await server.close();
      }
    },
  );
});

describe("probeHttp2", () => {
  const probe = (
    port: number,
    tls: DiagnosisTarget["tls"],
    timeoutMs = 3_000,
    signal?: AbortSignal,
  ) => probeHttp2({ host: "127.0.0.1", port, tls, timeoutMs }, signal);

  it(
    "reads an HTTP/2 server's SETTINGS as answered, over TLS and in clear text",
    BOUNDED,
    async () => {
      const tls = await listening(createSecureServer(serverTls()));
      const clear = await listening(createH2cServer());
      try {
        assert.deepEqual(await probe(tls.port, clientTls(true)), { t: "answered" });
        assert.deepEqual(await probe(clear.port, undefined), { t: "answered" });
      } finally {
        await Promise.all([tls.close(), clear.close()]);
      }
    },
  );

  it("reads a TLS record sent to a clear-text probe as tls-record", BOUNDED, async () => {
    const server = await listening(
      createTcpServer((socket) => sendAndClose(socket, [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])),
    );
    try {
      assert.deepEqual(await probe(server.port, undefined), { t: "tls-record" });
    } finally {
      await server.close();
    }
  });

  it("reads other bytes sent to a clear-text probe as answered", BOUNDED, async () => {
    for (const bytes of [
      [0x16, 0x02],
      [0x17, 0x03],
      [0x00, 0x03],
    ]) {
      const server = await listening(createTcpServer((socket) => sendAndClose(socket, bytes)));
      try {
        assert.deepEqual(await probe(server.port, undefined), { t: "answered" }, String(bytes));
      } finally {
        await server.close();
      }
    }
  });

  it("tells a close after the TLS handshake from a close before it", BOUNDED, async () => {
    const afterHandshake = await droppingAfterHandshake();
    const beforeTls = await listening(createTcpServer((socket) => socket.destroy()));
    try {
      assert.deepEqual(await probe(afterHandshake.port, clientTls(true)), {
        t: "dropped",
        serverSpokeTls: true,
      });
      assert.deepEqual(await probe(beforeTls.port, clientTls(true)), {
        t: "dropped",
        serverSpokeTls: false,
      });
      assert.deepEqual(await probe(beforeTls.port, undefined), {
        t: "dropped",
        serverSpokeTls: false,
      });
    } finally {
      await Promise.all([afterHandshake.close(), beforeTls.close()]);
    }
  });

  it(
    "a server that says nothing: no-answer at the timeout, or as soon as the signal aborts",
    BOUNDED,
    async () => {
      const sockets: Socket[] = [];
      const server = await listening(createTcpServer((socket) => sockets.push(socket)));
      try {
        let started = Date.now();
        assert.deepEqual(await probe(server.port, undefined, 100), { t: "no-answer" });
        assert.ok(Date.now() - started < 1_000);
        const controller = new AbortController();
        started = Date.now();
        const aborted = probe(server.port, undefined, 3_000, controller.signal);
        setTimeout(() => controller.abort(), 50);
        assert.deepEqual(await aborted, { t: "no-answer" });
        assert.ok(Date.now() - started < 1_000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await server.close();
      }
    },
  );
});

/** The HTTP/2 client preface and an empty SETTINGS frame: what an HTTP/2 client sends first. */
const PREFACE = [
  ...Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  0,
  0,
  0,
  4,
  0,
  0,
  0,
  0,
  0,
];

describe("probeHttp2: what it sends, and what it leaves behind", () => {
  it(
    "sends the HTTP/2 client preface and an empty SETTINGS frame, in clear text and over TLS",
    BOUNDED,
    async () => {
      const received: number[][] = [];
      // Collects what the client sends until the preface's length, then answers a byte.
      const collect = (socket: Socket) => {
        const bytes: number[] = [];
        socket.on("data", (chunk: Buffer) => {
          bytes.push(...chunk);
          if (bytes.length >= PREFACE.length) {
            received.push(bytes);
            socket.end(Buffer.of(0));
          }
        });
      };
      const clear = await listening(createTcpServer(collect));
      const secure = await listening(createTlsServer(serverTls(), collect));
      try {
        assert.deepEqual(
          await probeHttp2({
            host: "127.0.0.1",
            port: clear.port,
            tls: undefined,
            timeoutMs: 3_000,
          }),
          { t: "answered" },
        );
        assert.deepEqual(
          await probeHttp2({
            host: "127.0.0.1",
            port: secure.port,
            tls: clientTls(true),
            timeoutMs: 3_000,
          }),
          { t: "answered" },
        );
        assert.deepEqual(received, [PREFACE, PREFACE]);
      } finally {
        await Promise.all([clear.close(), secure.close()]);
      }
    },
  );

  it(
    "reads a TLS handshake record (content type 22) sent to a clear-text probe as tls-record too",
    BOUNDED,
    async () => {
      const server = await listening(
        createTcpServer((socket) => sendAndClose(socket, [0x16, 0x03, 0x03, 0x00, 0x01, 0x00])),
      );
      try {
        assert.deepEqual(
          await probeHttp2({
            host: "127.0.0.1",
            port: server.port,
            tls: undefined,
            timeoutMs: 3_000,
          }),
          { t: "tls-record" },
        );
      } finally {
        await server.close();
      }
    },
  );

  it(
    "once answered, leaves no timer running and no listener on the caller's signal",
    BOUNDED,
    async () => {
      const server = await listening(createH2cServer());
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      try {
        const signal = new AbortController().signal;
        const before = timers();
        for (let i = 0; i < 3; i++) {
          const seen = await probeHttp2(
            { host: "127.0.0.1", port: server.port, tls: undefined, timeoutMs: 60_000 },
            signal,
          );
          assert.deepEqual(seen, { t: "answered" });
        }
        assert.equal(timers(), before, "no probe timer left");
        assert.equal(getEventListeners(signal, "abort").length, 0);
      } finally {
        await server.close();
      }
    },
  );
});

describe("diagnoseReset: the edges of what it reads", () => {
  it("names a client certificate without a CN as CN '?'", BOUNDED, async () => {
    const noCn = { cert: join(dir, "no-cn.crt"), key: join(dir, "no-cn.key") };
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/O=openfl-connect test",
        "-keyout",
        noCn.key,
        "-out",
        noCn.cert,
        "-days",
        "2",
      ],
      { stdio: "pipe" },
    );
    const server = await droppingAfterHandshake();
    try {
      const seen = await diagnoseReset(target(server.port, clientTls(false), identity(noCn.cert)));
      assert.ok(
        seen?.failure.includes(
          `client certificate ${noCn.cert} (CN '?', issued by 'O=openfl-connect test'`,
        ),
        seen?.failure,
      );
    } finally {
      await server.close();
    }
  });

  it("a certificate is EXPIRED only after its last second, not at it", BOUNDED, async () => {
    const one = pki.collaborators.one?.cert ?? "";
    const notAfter = new Date(new X509Certificate(readFileSync(one)).validTo).getTime();
    const server = await droppingAfterHandshake();
    try {
      for (const [now, expired] of [
        [notAfter, false],
        [notAfter + 1, true],
      ] as const) {
        mock.timers.enable({ apis: ["Date"], now });
        try {
          const seen = await diagnoseReset(target(server.port, clientTls(true), identity(one)));
          assert.equal(seen?.failure.includes("EXPIRED"), expired, seen?.failure);
        } finally {
          mock.timers.reset();
        }
      }
    } finally {
      await server.close();
    }
  });

  it(
    "useTls false against a TLS server that speaks none of our TLS versions: its alert says it speaks TLS",
    BOUNDED,
    async () => {
      const server = await listening(
        createTlsServer({
          ...serverTls(),
          minVersion: "TLSv1",
          maxVersion: "TLSv1.1",
          ciphers: "DEFAULT@SECLEVEL=0",
        }),
      );
      try {
        assert.equal((await diagnoseReset(target(server.port, undefined)))?.t, "protocol-mismatch");
      } finally {
        await server.close();
      }
    },
  );
});
