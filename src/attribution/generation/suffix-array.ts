/**
 * Suffix array construction by induced sorting, SA-IS (Nong, Zhang & Chan 2009, "Linear suffix array construction by
 * almost pure induced-sorting", Algorithms 1–2): O(n) time, one Int32Array of workspace beyond the output. This is the
 * index under verbatim span tracing (infini-gram, Liu et al. 2024; OLMoTrace, Liu et al. 2025), the product's second
 * attribution path, so it is ours rather than a dependency (no maintained npm package builds one over integer tokens).
 */
import { ProvenantError } from '../../core/index.js';

/**
 * The suffix array of `s`: positions of its suffixes in lexicographic order. `s` holds integers in [0, alphabetSize) and
 * must end with a unique 0 (the sentinel), which then sorts first.
 *
 * @example
 * ```ts
 * import { suffixArray } from 'provenant/attribution';
 * suffixArray(Int32Array.from([2, 1, 2, 1, 0]), 3); // Int32Array [4, 3, 1, 2, 0]  ("baba$")
 * ```
 */
export function suffixArray(s: Int32Array, alphabetSize: number): Int32Array {
  const n = s.length;
  if (n === 0 || s[n - 1] !== 0) throw new ProvenantError('INVALID_ARGUMENT', 'suffixArray: the text must end with the sentinel 0.');
  for (let i = 0; i < n - 1; i++) {
    if (!(s[i]! > 0 && s[i]! < alphabetSize)) {
      throw new ProvenantError('INVALID_ARGUMENT', `suffixArray: symbol ${s[i]} at ${i} is not in [1, ${alphabetSize}) (0 is reserved for the final sentinel).`);
    }
  }
  return sais(s, alphabetSize);
}

function sais(s: Int32Array, K: number): Int32Array {
  const n = s.length;
  const sa = new Int32Array(n).fill(-1);
  if (n === 1) {
    sa[0] = 0;
    return sa;
  }
  // t[i] = 1 for S-type (suffix i < suffix i+1), 0 for L-type.
  const t = new Uint8Array(n);
  t[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) t[i] = s[i]! < s[i + 1]! || (s[i] === s[i + 1] && t[i + 1] === 1) ? 1 : 0;
  const isLms = (i: number): boolean => i > 0 && t[i] === 1 && t[i - 1] === 0;
  const counts = new Int32Array(K);
  for (let i = 0; i < n; i++) counts[s[i]!]!++;
  const buckets = (ends: boolean): Int32Array => {
    const b = new Int32Array(K);
    let sum = 0;
    for (let c = 0; c < K; c++) {
      sum += counts[c]!;
      b[c] = ends ? sum : sum - counts[c]!;
    }
    return b;
  };
  const induce = (): void => {
    let b = buckets(false);
    for (let i = 0; i < n; i++) {
      const j = sa[i]! - 1;
      if (j >= 0 && t[j] === 0) sa[b[s[j]!]!++] = j;
    }
    b = buckets(true);
    for (let i = n - 1; i >= 0; i--) {
      const j = sa[i]! - 1;
      if (j >= 0 && t[j] === 1) sa[--b[s[j]!]!] = j;
    }
  };

  // Stage 1: sort the LMS substrings by inducing from LMS positions placed at their buckets' ends.
  let b = buckets(true);
  for (let i = 1; i < n; i++) if (isLms(i)) sa[--b[s[i]!]!] = i;
  induce();
  let n1 = 0;
  for (let i = 0; i < n; i++) if (isLms(sa[i]!)) sa[n1++] = sa[i]!;
  sa.fill(-1, n1);
  // Name the sorted LMS substrings: equal substrings (same symbols and types up to the next LMS position) share a name.
  let name = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = sa[i]!;
    let differs = prev === -1;
    for (let d = 0; !differs; d++) {
      if (s[pos + d] !== s[prev + d] || t[pos + d] !== t[prev + d]) differs = true;
      else if (d > 0 && (isLms(pos + d) || isLms(prev + d))) break;
    }
    if (differs) {
      name++;
      prev = pos;
    }
    sa[n1 + (pos >> 1)] = name - 1; // LMS positions are ≥ 2 apart, so pos >> 1 is collision-free and keeps text order
  }
  let j = n - 1;
  for (let i = n - 1; i >= n1; i--) if (sa[i]! >= 0) sa[j--] = sa[i]!;

  // Stage 2: sort the reduced string (recursively unless every name is unique).
  const s1 = sa.slice(n - n1);
  let sa1: Int32Array;
  if (name < n1) sa1 = sais(s1, name);
  else {
    sa1 = new Int32Array(n1);
    for (let i = 0; i < n1; i++) sa1[s1[i]!] = i;
  }
  // Stage 3: place the LMS suffixes in their sorted order and induce the rest.
  const lms = new Int32Array(n1);
  for (let i = 1, k = 0; i < n; i++) if (isLms(i)) lms[k++] = i;
  for (let i = 0; i < n1; i++) sa1[i] = lms[sa1[i]!]!;
  sa.fill(-1);
  b = buckets(true);
  for (let i = n1 - 1; i >= 0; i--) {
    const p = sa1[i]!;
    sa[--b[s[p]!]!] = p;
  }
  induce();
  return sa;
}
