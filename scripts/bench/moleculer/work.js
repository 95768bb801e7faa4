// The same work as scripts/bench/replicas_front_component.ts: `rounds` rounds of integer mixing.
export function work(rounds) {
  let x = 0x9e3779b9;
  for (let i = 0; i < rounds; i++) x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) + i | 0;
  return x;
}
