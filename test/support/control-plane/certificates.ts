import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files under `dir` that kube-apiserver and its clients need; all made fresh for one test run. */
export interface CertificateFiles {
  readonly dir: string;
  /** Signs the serving certificate: clients trust it. */
  readonly servingCa: string;
  readonly servingCert: string;
  readonly servingKey: string;
  /** kube-apiserver's --client-ca-file: it signs the admin's client certificate. */
  readonly clientCa: string;
  /** CN=admin, O=system:masters: the tests' own identity, allowed everything. */
  readonly adminCert: string;
  readonly adminKey: string;
  /** Service-account token signing key pair (TokenRequest API). */
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
}

// What envtest's TinyCA makes: ECDSA P-256, short-lived (notes/real-control-plane.md §3).
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
const DAYS = ['-days', '7'];

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed in ${cwd}: ${stderr.trim() || String(error)}`);
  }
}

function selfSignedCa(dir: string, name: string, subject: string): Promise<void> {
  return openssl(
    dir,
    'req',
    '-x509',
    ...EC_KEY,
    ...DAYS,
    '-subj',
    subject,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  );
}

async function signedBy(
  dir: string,
  ca: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await openssl(dir, 'req', ...EC_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  await writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    ...DAYS,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  );
}

/** Makes two CAs, the serving and admin certificates, and the service-account keys in `dir`. */
export async function makeCertificates(dir: string): Promise<CertificateFiles> {
  await selfSignedCa(dir, 'ca', '/CN=cdm-sink-test-serving-ca');
  await selfSignedCa(dir, 'client-ca', '/CN=cdm-sink-test-client-ca');
  await signedBy(
    dir,
    'ca',
    'apiserver',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  await signedBy(dir, 'client-ca', 'admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  await openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key');
  await openssl(dir, 'ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    servingCa: file('ca.crt'),
    servingCert: file('apiserver.crt'),
    servingKey: file('apiserver.key'),
    clientCa: file('client-ca.crt'),
    adminCert: file('admin.crt'),
    adminKey: file('admin.key'),
    serviceAccountKey: file('sa.key'),
    serviceAccountPublicKey: file('sa.pub'),
  };
}
