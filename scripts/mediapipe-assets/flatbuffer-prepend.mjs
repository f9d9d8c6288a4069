// Edits a flatbuffer without re-serialising it: new tables, vectors and strings are written in a
// prefix, followed by the original bytes unchanged. A new root table in the prefix references
// both new objects and original ones. Flatbuffer offsets (uoffset) only point forward, so every
// object is placed after the object that references it (pre-order), and original objects, which
// all live after the prefix, can be referenced from anywhere in it. The prefix length is a
// multiple of 64, so original data keeps its alignment.
//
// Node shapes:
//   old(at)                         an object of the original buffer at absolute offset `at`
//   table([field, ...])             fields by id; a field is undefined (absent), u8(v), u32(v), i32(v) or a node
//   refs([node, ...])               vector of offsets to tables/strings
//   scalars(bytes, align, size)     vector of `size`-byte scalars given as raw little-endian bytes
//   string(text)

const PREFIX_ALIGNMENT = 64;

export const old = (at) => ({ kind: 'old', at });
export const table = (fields) => ({ kind: 'table', fields });
export const refs = (items) => ({ kind: 'refs', items });
export const scalars = (bytes, align = 4, size = 1) => ({ kind: 'scalars', bytes, align, size });
export const string = (text) => ({ kind: 'string', bytes: new TextEncoder().encode(text), size: 1 });
export const u8 = (value) => ({ kind: 'u8', value });
export const u32 = (value) => ({ kind: 'u32', value });
export const i32 = (value) => ({ kind: 'i32', value });
export const int32s = (values) => scalars(new Uint8Array(Int32Array.from(values).buffer), 4, 4);

const isScalarField = (f) => f.kind === 'u8' || f.kind === 'u32' || f.kind === 'i32';

/** Returns `original` preceded by a prefix whose root table is `root`, with file identifier `identifier`. */
export function prependRoot(original, root, identifier) {
  // Pass 1: positions of new objects in pre-order.
  const positions = new Map();
  let cursor = 8; // root uoffset + file identifier
  const align = (n) => { cursor = Math.ceil(cursor / n) * n; };
  const place = (node) => {
    if (node.kind === 'old' || positions.has(node)) return;
    if (node.kind === 'table') {
      align(2);
      const vtable = cursor;
      cursor += 4 + 2 * node.fields.length;
      align(4);
      positions.set(node, { vtable, at: cursor });
      cursor += 4 + 4 * node.fields.length; // every field gets a 4-byte slot
      node.fields.forEach((f) => f && !isScalarField(f) && place(f));
    } else if (node.kind === 'refs') {
      align(4);
      positions.set(node, { at: cursor });
      cursor += 4 + 4 * node.items.length;
      node.items.forEach(place);
    } else if (node.kind === 'scalars') {
      cursor = Math.ceil((cursor + 4) / node.align) * node.align - 4; // data aligned, length just before
      positions.set(node, { at: cursor });
      cursor += 4 + node.bytes.length;
    } else if (node.kind === 'string') {
      align(4);
      positions.set(node, { at: cursor });
      cursor += 4 + node.bytes.length + 1;
    } else {
      throw new Error(`unknown node kind ${node.kind}`);
    }
  };
  place(root);
  const shift = Math.ceil(cursor / PREFIX_ALIGNMENT) * PREFIX_ALIGNMENT;
  const addressOf = (node) => (node.kind === 'old' ? shift + node.at : positions.get(node).at);

  // Pass 2: write.
  const out = new Uint8Array(shift + original.length);
  const view = new DataView(out.buffer);
  const pointTo = (at, node) => {
    const target = addressOf(node);
    if (target <= at) throw new Error('flatbuffer offsets must point forward');
    view.setUint32(at, target - at, true);
  };
  view.setUint32(0, addressOf(root), true);
  out.set(new TextEncoder().encode(identifier), 4);
  for (const [node, { at, vtable }] of positions) {
    if (node.kind === 'table') {
      view.setUint16(vtable, 4 + 2 * node.fields.length, true);
      view.setUint16(vtable + 2, 4 + 4 * node.fields.length, true);
      view.setInt32(at, at - vtable, true);
      node.fields.forEach((f, i) => {
        const slot = at + 4 + 4 * i;
        view.setUint16(vtable + 4 + 2 * i, f ? 4 + 4 * i : 0, true);
        if (!f) return;
        if (f.kind === 'u8') view.setUint8(slot, f.value);
        else if (f.kind === 'u32') view.setUint32(slot, f.value, true);
        else if (f.kind === 'i32') view.setInt32(slot, f.value, true);
        else pointTo(slot, f);
      });
    } else if (node.kind === 'refs') {
      view.setUint32(at, node.items.length, true);
      node.items.forEach((item, j) => pointTo(at + 4 + 4 * j, item));
    } else {
      // scalars and strings: element count, then bytes (strings keep a zero terminator from the zeroed buffer)
      view.setUint32(at, node.bytes.length / node.size, true);
      out.set(node.bytes, at + 4);
    }
  }
  out.set(original, shift);
  return out;
}

/** Read access to tables of an existing flatbuffer. */
export class FlatbufferReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  root() {
    return this.view.getUint32(0, true);
  }
  identifier() {
    return new TextDecoder().decode(this.bytes.subarray(4, 8));
  }
  /** Absolute position of field `id` of the table at `at`, or undefined when absent. */
  field(at, id) {
    const vtable = at - this.view.getInt32(at, true);
    const slot = 4 + 2 * id;
    if (slot >= this.view.getUint16(vtable, true)) return undefined;
    const offset = this.view.getUint16(vtable + slot, true);
    return offset ? at + offset : undefined;
  }
  /** Absolute position of the object that field `id` references. */
  ref(at, id) {
    const pos = this.field(at, id);
    return pos === undefined ? undefined : pos + this.view.getUint32(pos, true);
  }
  /** Absolute positions of the tables in the vector that field `id` references. */
  tables(at, id) {
    const vector = this.ref(at, id);
    if (vector === undefined) return [];
    return Array.from({ length: this.view.getUint32(vector, true) }, (_, j) => {
      const slot = vector + 4 + 4 * j;
      return slot + this.view.getUint32(slot, true);
    });
  }
  ints(at, id) {
    const vector = this.ref(at, id);
    if (vector === undefined) return [];
    return Array.from({ length: this.view.getUint32(vector, true) }, (_, j) => this.view.getInt32(vector + 4 + 4 * j, true));
  }
  string(at, id) {
    const s = this.ref(at, id);
    if (s === undefined) return undefined;
    return new TextDecoder().decode(this.bytes.subarray(s + 4, s + 4 + this.view.getUint32(s, true)));
  }
  u32(at, id, fallback = 0) {
    const pos = this.field(at, id);
    return pos === undefined ? fallback : this.view.getUint32(pos, true);
  }
}
