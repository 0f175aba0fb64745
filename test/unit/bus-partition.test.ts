import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Partitioners } from 'kafkajs';
import { createPartitioner, keyPartition } from '../../shared/bus/partition.ts';

/** What kafkajs's DefaultPartitioner (the Kafka adapter's) chooses for a key. */
function kafkajsPartition(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

describe('embedded bus partitioning', () => {
  it('puts every key on the partition Kafka puts it on', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'projects/x/app', 'bookworm.x86_64', 'ü€𝄞'];
    for (let i = 0; i < 300; i++) keys.push(randomBytes(i % 40).toString('base64'));
    for (const key of keys) {
      for (const partitions of [1, 3, 12, 50]) {
        assert.equal(keyPartition(key, partitions), kafkajsPartition(key, partitions), `${key} / ${partitions}`);
      }
    }
  });

  it('spreads records without a key round robin', () => {
    const next = createPartitioner();
    const seen = Array.from({ length: 6 }, () => next(null, 3));
    assert.deepEqual(new Set(seen).size, 3);
    assert.equal(seen[0], seen[3]);
  });
});
