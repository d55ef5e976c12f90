/** Object-store benchmarks: 1 MiB PUT/GET per second and peak RSS while 1 GiB streams in and out. */
import { Readable } from 'node:stream';
import { peakRssMiB, printTable, send, signS3, throughput } from './lib.js';

const MiB = 1024 * 1024;

/** A readable producing `total` bytes of a repeating pattern without holding them. */
function generated(total: number): Readable {
  const block = Buffer.alloc(MiB, 7);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) { this.push(null); return; }
      const n = Math.min(left, block.length);
      left -= n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

async function putGetRates(base: string, signed: boolean, count: number, concurrency: number): Promise<{ put: number; get: number }> {
  const body = Buffer.alloc(MiB, 1);
  const headersFor = async (method: string, url: string): Promise<Record<string, string>> => (signed ? signS3(method, url) : {});
  await send('PUT', `${base}/bench`, await headersFor('PUT', `${base}/bench`));
  const put = await throughput(count, concurrency, async (i) => {
    const url = `${base}/bench/obj-${i % 200}`;
    const r = await send('PUT', url, { ...(await headersFor('PUT', url)), 'content-length': String(body.length) }, body);
    if (r.status !== 200) throw new Error(`PUT ${url}: ${r.status}`);
  });
  const get = await throughput(count, concurrency, async (i) => {
    const url = `${base}/bench/obj-${i % 200}`;
    const r = await send('GET', url, await headersFor('GET', url));
    if (r.status !== 200 || r.bytes !== MiB) throw new Error(`GET ${url}: ${r.status} ${r.bytes}`);
  });
  return { put, get };
}

async function streamGiB(base: string, signed: boolean, pid: number): Promise<{ seconds: number; rss: number }> {
  const size = 1024 * MiB;
  const url = `${base}/bench/one-gib`;
  const started = performance.now();
  const put = await send('PUT', url, { ...(signed ? await signS3('PUT', url) : {}), 'content-length': String(size) }, generated(size));
  if (put.status !== 200) throw new Error(`PUT 1 GiB: ${put.status}`);
  const get = await send('GET', url, signed ? await signS3('GET', url) : {});
  if (get.bytes !== size) throw new Error(`GET 1 GiB returned ${get.bytes} bytes`);
  return { seconds: (performance.now() - started) / 1000, rss: peakRssMiB(pid) };
}

/** Runs the object-store benchmarks against inferq and the bare baseline and prints the table. */
export async function benchObjectStore(inferq: { url: string; pid: number }, baseline: { url: string; pid: number }, quick: boolean): Promise<void> {
  const count = quick ? 200 : 1000;
  const concurrency = 8;
  const ours = await putGetRates(inferq.url, true, count, concurrency);
  const bare = await putGetRates(baseline.url, false, count, concurrency);
  const oursBig = await streamGiB(inferq.url, true, inferq.pid);
  const bareBig = await streamGiB(baseline.url, false, baseline.pid);
  printTable(`Object store (${count} × 1 MiB, ${concurrency} connections; 1 GiB PUT then GET)`, ['metric', 'inferq', 'baseline (bare node:http → file)', 'inferq / baseline', 'target'], [
    ['PUT 1 MiB objects/s', ours.put, bare.put, `${((ours.put / bare.put) * 100).toFixed(0)}%`, '—'],
    ['GET 1 MiB objects/s', ours.get, bare.get, `${((ours.get / bare.get) * 100).toFixed(0)}%`, '—'],
    ['1 GiB PUT+GET seconds', oursBig.seconds, bareBig.seconds, `${((oursBig.seconds / bareBig.seconds) * 100).toFixed(0)}%`, '—'],
    ['peak RSS during 1 GiB PUT+GET (MiB)', oursBig.rss, bareBig.rss, '—', '< 200'],
  ]);
}
