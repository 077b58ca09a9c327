/**
 * The mesh's certificate authority, kept in the store so that every replica signs with the same
 * key and serves the same bundle. Each change (first start, rotation, end of an overlap) is one
 * commit guarded by the CA's generation: two replicas racing to create or rotate it cannot both win,
 * and watchers see the new bundle as a `bundle` change of that revision.
 *
 * Rotation: the new CA signs at once and both anchors are in the bundle (the overlap) until an
 * operator ends it with {@link CertificateAuthority.finish}, which refuses before every certificate
 * the old CA signed has expired (unless forced).
 */
import { randomBytes } from 'node:crypto';
import { spiffeId, type TrustBundle } from '@weft/core/config';
import { HttpError } from '../server/http-errors.ts';
import type { Store, StoredAuthority, StoredCa } from '../store/store.ts';
import { verifiedCsr } from './csr.ts';
import { CaMaterialError, generateRoot, importSigningKey, operatorAuthority, SIGNING } from './keys.ts';
import * as x509 from './x509.ts';

/** Bounds of a certificate's lifetime in ms (1 s to 7 days). */
export const CERTIFICATE_LIFETIME_LIMITS = { minMs: 1000, maxMs: 7 * 24 * 3600 * 1000 } as const;

export const CA_DEFAULTS = {
  trustDomain: 'weft.local',
  certificateLifetimeMs: 24 * 3600 * 1000,
} as const;

/** Certificates start this much before they are issued, for clocks a little behind the service's. */
const BACKDATE_MS = 30_000;
/** Added to the longest lifetime before an overlap may end: a replica may sign just after a rotation. */
const OVERLAP_MARGIN_MS = 60_000;

/** A signed certificate as `POST /v1/services/:service/certificates` returns it. */
export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  readonly certificate: string;
  /** The CA certificates to send after the leaf, nearest first (not the trust anchor). */
  readonly chain: readonly string[];
  readonly spiffeId: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly trustBundle: TrustBundle;
}

export interface CaStatus {
  readonly trustDomain: string;
  readonly generation: number;
  readonly authorities: readonly {
    readonly id: string;
    readonly subject: string;
    readonly source: StoredAuthority['source'];
    readonly role: 'signing' | 'retiring';
    readonly notBefore: string;
    readonly notAfter: string;
    readonly anchor: string;
    readonly addedAt: string;
  }[];
  readonly overlap: StoredCa['overlap'] | null;
}

/** The bundle of `authorities`: their anchors, once each, in order. */
export function bundleOf(
  trustDomain: string,
  authorities: readonly StoredAuthority[],
  generation: number,
): TrustBundle {
  return { trustDomain, certificates: [...new Set(authorities.map((a) => a.anchor))], generation };
}

const material = (error: unknown): never => {
  if (error instanceof CaMaterialError) throw new HttpError(400, 'invalid', error.message, [error.message]);
  throw error;
};

export interface CertificateAuthorityOptions {
  /** Longest lifetime of a certificate, and the default. */
  certificateLifetimeMs: number;
  /** Wall clock in ms. */
  now: () => number;
}

export class CertificateAuthority {
  readonly #store: Store;
  readonly #options: CertificateAuthorityOptions;
  /** Imported signing keys and parsed certificates, by authority id (they never change). */
  readonly #keys = new Map<string, { key: CryptoKey; cert: x509.X509Certificate }>();

  constructor(store: Store, options: CertificateAuthorityOptions) {
    this.#store = store;
    this.#options = options;
  }

  async #current(): Promise<StoredCa> {
    const ca = await this.#store.getCa();
    if (!ca) throw new HttpError(503, 'unavailable', 'the certificate authority is not set up yet');
    return ca;
  }

  async #signer(a: StoredAuthority) {
    let hit = this.#keys.get(a.id);
    if (!hit) {
      hit = { key: await importSigningKey(a.privateKey), cert: new x509.X509Certificate(a.certificate) };
      this.#keys.set(a.id, hit);
    }
    return hit;
  }

  async #write(
    previous: StoredCa | undefined,
    next: Omit<StoredCa, 'bundle' | 'generation'>,
  ): Promise<StoredCa> {
    const generation = (previous?.generation ?? 0) + 1;
    const ca: StoredCa = {
      ...next,
      generation,
      bundle: bundleOf(next.trustDomain, next.authorities, generation),
    };
    const r = await this.#store.commit(
      [{ op: 'ca', ca }],
      [{ type: 'ca', generation: previous?.generation ?? 0 }],
    );
    if (!r.ok) throw new HttpError(409, 'conflict', 'the certificate authority changed meanwhile; run again');
    return ca;
  }

  /** Signs a certificate for `service` from a PEM CSR; the URI SAN is the service's SPIFFE ID only. */
  async issue(service: string, csrPem: string, lifetimeMs?: number): Promise<IssuedCertificate> {
    const csr = await verifiedCsr(csrPem);
    const ca = await this.#current();
    const authority = ca.authorities[0]!;
    const { key, cert: issuer } = await this.#signer(authority);
    const now = this.#options.now();
    const life = Math.min(
      lifetimeMs ?? this.#options.certificateLifetimeMs,
      this.#options.certificateLifetimeMs,
    );
    const notAfter = new Date(Math.min(now + life, issuer.notAfter.getTime()));
    const id = spiffeId(ca.trustDomain, service);
    const serial = randomBytes(16);
    serial[0]! &= 0x7f; // a positive INTEGER
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial.toString('hex'),
      subject: new x509.Name([{ O: ['weft'] }, { CN: [service] }]).toString(),
      issuer: issuer.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: csr.publicKey,
      signingKey: key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id }]),
        await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
      ],
    });
    return {
      certificate: cert.toString('pem'),
      chain: [authority.certificate, ...authority.chain].filter((c) => c !== authority.anchor),
      spiffeId: id,
      serialNumber: cert.serialNumber,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      trustBundle: ca.bundle,
    };
  }

  /**
   * Starts an overlap: a new generated root (or the operator's `certificate` + `privateKey`) signs
   * from now on, and the previous one stays in the bundle until {@link finish}.
   */
  async rotate(operator?: { certificate: string; privateKey: string }): Promise<StoredCa> {
    const ca = await this.#current();
    if (ca.overlap)
      throw new HttpError(
        409,
        'conflict',
        `an overlap is open since ${ca.overlap.since}: end it first (weft ca rotate --finish, possible after ${ca.overlap.endsAfter})`,
      );
    const now = new Date(this.#options.now());
    const next = operator
      ? await operatorAuthority(operator.certificate, operator.privateKey, now).catch(material)
      : await generateRoot(ca.trustDomain, now);
    if (next.id === ca.authorities[0]!.id)
      throw new HttpError(409, 'conflict', 'this CA certificate is already the one that signs');
    const endsAfter = new Date(now.getTime() + this.#options.certificateLifetimeMs + OVERLAP_MARGIN_MS);
    return this.#write(ca, {
      trustDomain: ca.trustDomain,
      authorities: [next, ca.authorities[0]!],
      overlap: { since: now.toISOString(), endsAfter: endsAfter.toISOString() },
    });
  }

  /** Ends the overlap: the retiring CA leaves the bundle. Refused before `endsAfter` unless `force`. */
  async finish(force = false): Promise<StoredCa> {
    const ca = await this.#current();
    if (!ca.overlap) throw new HttpError(409, 'conflict', 'no rotation is in progress: nothing to finish');
    if (!force && this.#options.now() < Date.parse(ca.overlap.endsAfter))
      throw new HttpError(
        409,
        'too_early',
        `certificates signed by the retiring CA may be valid until ${ca.overlap.endsAfter}: finish after that, or force (those certificates then stop verifying)`,
      );
    return this.#write(ca, { trustDomain: ca.trustDomain, authorities: [ca.authorities[0]!] });
  }

  async status(): Promise<CaStatus> {
    const ca = await this.#current();
    return {
      trustDomain: ca.trustDomain,
      generation: ca.generation,
      authorities: ca.authorities.map((a, i) => {
        const cert = new x509.X509Certificate(a.certificate);
        return {
          id: a.id,
          subject: cert.subject,
          source: a.source,
          role: i === 0 ? 'signing' : 'retiring',
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
          anchor: new x509.X509Certificate(a.anchor).subject,
          addedAt: a.addedAt,
        };
      }),
      overlap: ca.overlap ?? null,
    };
  }

  /** The current bundle. */
  async bundle(): Promise<TrustBundle> {
    return (await this.#current()).bundle;
  }

  /**
   * At start: makes the CA when the store has none (the operator's, or a generated root), or checks
   * the stored one against the options. Replicas starting together race; one commit wins and the
   * others read its CA.
   */
  async ensure(options: {
    trustDomain?: string;
    certificate?: string;
    privateKey?: string;
  }): Promise<StoredCa> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const ca = await this.#store.getCa();
      if (ca) {
        if (options.trustDomain !== undefined && options.trustDomain !== ca.trustDomain)
          throw new CaMaterialError(
            `the store's CA has trust domain "${ca.trustDomain}", not "${options.trustDomain}": a trust domain cannot be changed in place`,
          );
        if (options.certificate && options.privateKey) {
          const given = await operatorAuthority(
            options.certificate,
            options.privateKey,
            new Date(this.#options.now()),
          );
          if (!ca.authorities.some((a) => a.id === given.id))
            throw new CaMaterialError(
              'the store has another CA than --ca-cert: switch to it with `weft ca rotate --ca-cert --ca-key`',
            );
        }
        return ca;
      }
      const now = new Date(this.#options.now());
      const trustDomain = options.trustDomain ?? CA_DEFAULTS.trustDomain;
      const authority =
        options.certificate && options.privateKey
          ? await operatorAuthority(options.certificate, options.privateKey, now)
          : await generateRoot(trustDomain, now);
      // A store with history gets its CA as a revision, so that watchers resuming from before it
      // see the bundle arrive; a new store simply starts with it (its first write stays revision 1).
      if ((await this.#store.revision()) > 0) {
        try {
          return await this.#write(undefined, { trustDomain, authorities: [authority] });
        } catch (error) {
          if (!(error instanceof HttpError && error.status === 409)) throw error;
        }
      } else {
        const ca: StoredCa = {
          generation: 1,
          trustDomain,
          authorities: [authority],
          bundle: bundleOf(trustDomain, [authority], 1),
        };
        if (await this.#store.createCa(ca)) return ca;
      }
    }
    throw new Error('could not set up the certificate authority: other replicas kept changing it');
  }
}
