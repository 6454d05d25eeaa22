import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { caCertificateFile, tlsDir } from "./layout";

/**
 * TLS material of a secure stack, made with the JDK's keytool (there wherever Java is): one self-signed
 * CA per data directory, and per site a broker keystore whose certificate that CA signed for loopback.
 * Files holding private keys are readable by their owner only.
 */

const PASSWORD_ENV = "TANDEM_KEYSTORE_PASSWORD";
const CA_DAYS = "3650";
const BROKER_DAYS = "825";

/** The keytool next to the java the stack runs (JAVA_HOME's, or the one on PATH). */
export function keytoolFor(java: string): string {
  return path.isAbsolute(java) ? path.join(path.dirname(java), "keytool") : "keytool";
}

export function caKeystoreFile(dataDir: string): string {
  return path.join(tlsDir(dataDir), "ca.p12");
}

function keytool(tool: string, password: string, args: string[], what: string): void {
  // Passwords go through the environment, never on a command line other users can read in /proc.
  const result = spawnSync(tool, args, {
    encoding: "utf8",
    env: { ...process.env, [PASSWORD_ENV]: password },
  });
  if (result.error) {
    throw new Error(
      `keytool not found (${tool}: ${result.error.message}): it comes with the JDK, needed for ${what}`,
    );
  }
  if (result.status !== 0) {
    throw new Error(
      `${what} failed (keytool exit ${result.status}): ${`${result.stderr}${result.stdout}`.trim()}`,
    );
  }
}

const storeArgs = (file: string) => [
  "-keystore",
  file,
  "-storetype",
  "PKCS12",
  "-storepass:env",
  PASSWORD_ENV,
];

/** Creates the stack's CA once; later calls keep it, so certificates already handed out stay valid. */
export function ensureCertificateAuthority(dataDir: string, tool: string, password: string): string {
  const dir = tlsDir(dataDir);
  const keystore = caKeystoreFile(dataDir);
  const pem = caCertificateFile(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(keystore)) {
    fs.rmSync(pem, { force: true });
    const partial = `${keystore}.partial`;
    fs.rmSync(partial, { force: true });
    keytool(
      tool,
      password,
      [
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        CA_DAYS,
        "-dname",
        `CN=Tandem local stack CA ${path.basename(path.resolve(dataDir))}`,
        "-ext",
        "bc:c=ca:true",
        "-ext",
        "ku:c=keyCertSign,cRLSign",
        ...storeArgs(partial),
      ],
      "creating the stack's certificate authority",
    );
    fs.chmodSync(partial, 0o600);
    fs.renameSync(partial, keystore);
  }
  if (!fs.existsSync(pem)) {
    keytool(
      tool,
      password,
      ["-exportcert", "-rfc", "-alias", "ca", "-file", pem, ...storeArgs(keystore)],
      "exporting the CA certificate",
    );
  }
  return pem;
}

/**
 * A PKCS12 keystore for one site's broker: a key pair whose certificate, for 127.0.0.1 and localhost, the
 * stack's CA signed, stored with the CA certificate as its chain. Kept once made.
 */
export function ensureBrokerKeystore(
  dataDir: string,
  site: string,
  dir: string,
  tool: string,
  password: string,
): string {
  const keystore = path.join(dir, "broker.p12");
  if (fs.existsSync(keystore)) return keystore;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const partial = `${keystore}.partial`;
  const request = path.join(dir, "broker.csr");
  const signed = path.join(dir, "broker.pem");
  for (const file of [partial, request, signed]) fs.rmSync(file, { force: true });
  const what = `making ${site}'s broker certificate`;
  keytool(
    tool,
    password,
    [
      "-genkeypair",
      "-alias",
      "broker",
      "-keyalg",
      "RSA",
      "-keysize",
      "2048",
      "-validity",
      BROKER_DAYS,
      "-dname",
      `CN=localhost, OU=${site}, O=Tandem local stack`,
      ...storeArgs(partial),
    ],
    what,
  );
  fs.chmodSync(partial, 0o600);
  keytool(tool, password, ["-certreq", "-alias", "broker", "-file", request, ...storeArgs(partial)], what);
  keytool(
    tool,
    password,
    [
      "-gencert",
      "-alias",
      "ca",
      "-rfc",
      "-infile",
      request,
      "-outfile",
      signed,
      "-validity",
      BROKER_DAYS,
      "-ext",
      "san=ip:127.0.0.1,dns:localhost",
      "-ext",
      "ku:c=digitalSignature,keyEncipherment",
      "-ext",
      "eku=serverAuth",
      ...storeArgs(caKeystoreFile(dataDir)),
    ],
    what,
  );
  // The CA goes in first, so that importing the signed certificate builds the chain up to it.
  keytool(
    tool,
    password,
    ["-importcert", "-noprompt", "-alias", "ca", "-file", caCertificateFile(dataDir), ...storeArgs(partial)],
    what,
  );
  keytool(tool, password, ["-importcert", "-alias", "broker", "-file", signed, ...storeArgs(partial)], what);
  fs.rmSync(request);
  fs.rmSync(signed);
  fs.renameSync(partial, keystore);
  return keystore;
}
