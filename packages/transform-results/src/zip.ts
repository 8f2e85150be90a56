import { inflateRawSync } from 'node:zlib';

/*
 * The few members we want out of freqtrade's result zip, read with Node's own zlib (docs/decisions/
 * 0042): fflate added 5.9 KB to a zip already at its 150 KB budget, and a result zip needs only
 * what PKWARE's APPNOTE.TXT calls the central directory and two compression methods, stored (0)
 * and deflated (8), which is what Python's zipfile writes for freqtrade. ZIP64 archives (over
 * 4 GB, far above the 100 MB a result may have) are refused, not misread.
 */
const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipError extends Error {
  override name = 'ZipError';
}

/** The member names of `bytes`, and the bytes of those `wanted` says yes to. */
export const unzip = (bytes: Uint8Array, wanted: (name: string) => boolean) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record: 22 bytes and a comment of at most 65,535, at the end.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 65_557); at--) {
    if (view.getUint32(at, true) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('no end of central directory: not a zip archive');
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError('a ZIP64 archive');
  const names: string[] = [];
  const files: Record<string, Uint8Array> = {};
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL)
      throw new ZipError('a broken central directory');
    const method = view.getUint16(at + 10, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const next = at + 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    names.push(name);
    if (wanted(name)) {
      if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL)
        throw new ZipError(`${name}: no local header`);
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      const data = bytes.subarray(start, start + size);
      if (data.length !== size) throw new ZipError(`${name}: truncated`);
      if (method === 0) files[name] = data;
      else if (method === 8) files[name] = new Uint8Array(inflateRawSync(data));
      else throw new ZipError(`${name}: compression method ${method}`);
    }
    at = next;
  }
  return { names, files };
};
