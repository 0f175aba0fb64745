/**
 * Debian version comparison (deb-version(7), the algorithm of dpkg's verrevcmp), pure so the
 * planner needs no dpkg process per comparison.
 */
export interface DebianVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/** Splits `[epoch:]upstream[-revision]`; a missing revision is '' (dpkg treats it like '0'). */
export function parseDebianVersion(version: string): DebianVersion {
  const text = version.trim();
  const colon = text.indexOf(':');
  let epoch = 0;
  let rest = text;
  if (colon >= 0) {
    const epochText = text.slice(0, colon);
    if (!/^\d+$/.test(epochText)) throw new Error(`invalid Debian version ${JSON.stringify(version)}: bad epoch`);
    epoch = Number(epochText);
    rest = text.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '') throw new Error(`invalid Debian version ${JSON.stringify(version)}: empty upstream version`);
  return { epoch, upstream, revision };
}

/** Negative when a < b, 0 when equal, positive when a > b (like `dpkg --compare-versions`). */
export function compareDebianVersions(a: string, b: string): number {
  const left = parseDebianVersion(a);
  const right = parseDebianVersion(b);
  if (left.epoch !== right.epoch) return left.epoch - right.epoch;
  return compareParts(left.upstream, right.upstream) || compareParts(left.revision, right.revision);
}

/** The version string without its epoch, as used in pool file names. */
export function versionWithoutEpoch(version: string): string {
  const colon = version.indexOf(':');
  return colon >= 0 ? version.slice(colon + 1) : version;
}

const isDigit = (char: string | undefined): boolean => char !== undefined && char >= '0' && char <= '9';
const isLetter = (char: string): boolean => /^[A-Za-z]$/.test(char);

/** Sort weight of one character in a non-digit run: '~' before the end, the end before letters, letters before the rest. */
function order(char: string | undefined): number {
  if (char === undefined || isDigit(char)) return 0;
  if (isLetter(char)) return char.charCodeAt(0);
  if (char === '~') return -1;
  return char.charCodeAt(0) + 256;
}

function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // Non-digit prefixes, character by character.
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const difference = order(a[i]) - order(b[j]);
      if (difference !== 0) return difference;
      i++;
      j++;
    }
    // Digit runs compare as numbers: skip leading zeros, then the longer run is larger.
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let firstDifference = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDifference === 0) firstDifference = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDifference !== 0) return firstDifference;
  }
  return 0;
}
