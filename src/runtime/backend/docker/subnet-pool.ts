/** Hands out the /24 subnets of a /16 … /24 range (default a /16: 256 of them) in rotation. */
export class SubnetPool {
  readonly cidr: string;
  readonly size: number;
  /** The range's first address as a 32-bit number. */
  #base: number;
  #cursor = 0;

  constructor(cidr: string) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/(\d{2})$/.exec(cidr);
    const octets = m === null ? [] : [m[1], m[2], m[3]].map(Number);
    const bits = Number(m?.[4]);
    const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8)) >>> 0;
    const size = 2 ** (24 - bits);
    if (m === null || octets.some((o) => o > 255) || bits < 16 || bits > 24 || (base >>> 8) % size !== 0) {
      throw new Error(`task subnet pool must be an IPv4 range from /16 to /24 on a subnet boundary, such as 10.213.0.0/16; got "${cidr}"`);
    }
    this.cidr = cidr;
    this.size = size;
    this.#base = base;
  }

  next(): string {
    const n = this.#base + this.#cursor * 256;
    this.#cursor = (this.#cursor + 1) % this.size;
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.0/24`;
  }
}
