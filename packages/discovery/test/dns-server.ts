/**
 * A real DNS server on 127.0.0.1 (UDP, port 0) for the DNS resolver tests, serving a zone the test
 * edits as it goes: records with their TTLs, forced response codes, and names that get no answer.
 */
import dns2 from 'dns2';

// dns2's bundled types miss RCODE and the per-type encoders; this is the part of its API used here.
interface Writer {
  write(value: number, bits: number): void;
}
interface Message {
  header: { rcode: number };
  questions: { name: string; type: number }[];
  answers: object[];
}
interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}
const Packet = dns2.Packet as unknown as {
  TYPE: Record<string, number>;
  CLASS: { IN: number };
  RCODE: { NXDOMAIN: number };
  Resource: { SRV: { encode(record: SrvRecord, writer: Writer): void } };
  createResponseFromRequest(request: Message): Message;
};

// dns2 compresses the SRV target name, which RFC 2782 forbids and c-ares rejects (EBADRESP);
// this server writes the target uncompressed, as a conforming server does.
Packet.Resource.SRV.encode = (record, writer) => {
  writer.write(record.priority, 16);
  writer.write(record.weight, 16);
  writer.write(record.port, 16);
  for (const label of String(record.target).split('.').filter(Boolean)) {
    const bytes = Buffer.from(label);
    writer.write(bytes.length, 8);
    for (const b of bytes) writer.write(b, 8);
  }
  writer.write(0, 8);
};

export type Rr =
  | { type: 'A' | 'AAAA'; address: string; ttl: number }
  | { type: 'SRV'; target: string; port: number; priority: number; weight: number; ttl: number };

const TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 33: 'SRV' };

export class TestDnsServer {
  /** name → its records (all types). A name present with no record of the asked type answers NODATA. */
  readonly zone = new Map<string, Rr[]>();
  /** name → forced response code (2 SERVFAIL, 5 REFUSED, …). */
  readonly rcode = new Map<string, number>();
  /** Names that get no answer at all (the client times out). */
  readonly silent = new Set<string>();
  /** Every question asked, as `TYPE name`. */
  readonly log: string[] = [];
  port = 0;
  readonly #server = dns2.createServer({
    udp: true,
    handle: ((request: Message, send: (r: Message) => void) => this.#handle(request, send)) as never,
  });

  static async start(): Promise<TestDnsServer> {
    const s = new TestDnsServer();
    const addresses = (await s.#server.listen({ udp: { port: 0, address: '127.0.0.1' } })) as {
      udp: { port: number };
    };
    s.port = addresses.udp.port;
    return s;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  asked(question: string): number {
    return this.log.filter((q) => q === question).length;
  }

  async close(): Promise<void> {
    await this.#server.close();
  }

  #handle(request: Message, send: (r: Message) => void): void {
    const response = Packet.createResponseFromRequest(request);
    const q = request.questions[0];
    if (q === undefined) return;
    const type = TYPES[q.type] ?? String(q.type);
    this.log.push(`${type} ${q.name}`);
    if (this.silent.has(q.name)) return;
    const forced = this.rcode.get(q.name);
    if (forced !== undefined) {
      response.header.rcode = forced;
      send(response);
      return;
    }
    const records = this.zone.get(q.name);
    if (records === undefined) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
      send(response);
      return;
    }
    for (const r of records) {
      if (r.type !== type) continue;
      const base = { name: q.name, class: Packet.CLASS.IN, ttl: r.ttl };
      if (r.type === 'SRV') {
        const { target, port, priority, weight } = r;
        response.answers.push({ ...base, type: Packet.TYPE.SRV, target, port, priority, weight });
      } else {
        response.answers.push({ ...base, type: Packet.TYPE[r.type] ?? 0, address: r.address });
      }
    }
    send(response);
  }
}
