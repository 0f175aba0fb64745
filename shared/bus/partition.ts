/**
 * Which partition a record goes to, as Kafka's default partitioner chooses it: murmur2 of the key
 * (the Java client's, which kafkajs's DefaultPartitioner also implements), and round robin from a
 * random start for records without a key. The embedded bus uses it so that keys land on the same
 * partitions as over Kafka, without depending on the Kafka client.
 */
import { randomInt } from 'node:crypto';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Pure: Kafka's murmur2 of the UTF-8 bytes of `key`, as a signed 32-bit integer. */
function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? Buffer.from(key) : key;
  const { length } = data;
  let h = (SEED ^ length) | 0;
  const whole = length - (length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = data.readInt32LE(i);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length % 4;
  const byte = (offset: number): number => data[whole + offset] ?? 0;
  if (rest === 3) h ^= byte(2) << 16;
  if (rest >= 2) h ^= byte(1) << 8;
  if (rest >= 1) h = Math.imul(h ^ byte(0), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Pure: the partition of a keyed record among `partitions`. */
export function keyPartition(key: string | Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** A partitioner of one topic: keyed records by murmur2, the others round robin from a random start. */
export function createPartitioner(): (key: string | null, partitions: number) => number {
  let counter = randomInt(0, 2 ** 32);
  return (key, partitions) => {
    if (key !== null) return keyPartition(key, partitions);
    counter += 1;
    return (counter & 0x7fffffff) % partitions;
  };
}
