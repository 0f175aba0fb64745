/** Build keys, repo keys, topic and consumer group names (DESIGN.md §2, §3). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { buildKeyOf, consumerGroupNames, parseBuildKey, repoKeyOf, topicNames } from '../../shared/messages/index.ts';

function assertKeyInvalid(make: () => unknown, mentions: string): void {
  assert.throws(make, (error: unknown) => {
    assert.ok(isBuildfleetError(error, 'key-invalid'), String(error));
    assert.ok(error.message.includes(mentions), error.message);
    return true;
  });
}

describe('build key', () => {
  it('is <project>@<dist>.<arch> and parses back', () => {
    const target = { dist: 'bookworm', arch: 'x86_64' };
    const key = buildKeyOf('projects/demo/hello-deb', target);
    assert.equal(key, 'projects/demo/hello-deb@bookworm.x86_64');
    assert.deepEqual(parseBuildKey(key), { project: 'projects/demo/hello-deb', target });
  });

  it('keeps dots in the dist: the arch is what follows the last dot', () => {
    const key = buildKeyOf('projects/suse/hello-rpm', { dist: 'leap15.6', arch: 'aarch64' });
    assert.equal(key, 'projects/suse/hello-rpm@leap15.6.aarch64');
    assert.deepEqual(parseBuildKey(key).target, { dist: 'leap15.6', arch: 'aarch64' });
  });

  it('refuses parts that would make the key ambiguous', () => {
    const target = { dist: 'bookworm', arch: 'x86_64' };
    assertKeyInvalid(() => buildKeyOf('projects/a@b/c', target), 'projects/a@b/c');
    assertKeyInvalid(() => buildKeyOf('/abs/path', target), '/abs/path');
    assertKeyInvalid(() => buildKeyOf('projects/../etc', target), 'projects/../etc');
    assertKeyInvalid(() => buildKeyOf('projects/demo/', target), 'projects/demo/');
    assertKeyInvalid(() => buildKeyOf('', target), 'project ""');
    assertKeyInvalid(() => buildKeyOf('projects/x', { dist: 'bookworm', arch: 'x86.64' }), 'x86.64');
    assertKeyInvalid(() => buildKeyOf('projects/x', { dist: '', arch: 'x86_64' }), 'dist ""');
    assertKeyInvalid(() => parseBuildKey('projects/x'), 'projects/x');
    assertKeyInvalid(() => parseBuildKey('projects/x@bookworm'), 'projects/x@bookworm');
    assertKeyInvalid(() => parseBuildKey('@bookworm.x86_64'), '@bookworm.x86_64');
  });
});

describe('repo key', () => {
  it('is the parent directory of the package and the dist', () => {
    assert.equal(repoKeyOf('projects/demo/hello-deb', 'bookworm'), 'projects/demo/bookworm');
    assert.equal(repoKeyOf('projects/demo/hello-lib', 'bookworm'), 'projects/demo/bookworm');
    assert.equal(repoKeyOf('projects/hello', 'el9'), 'projects/el9');
    assert.equal(repoKeyOf('hello', 'el9'), 'el9');
  });

  it('refuses what buildKeyOf refuses', () => {
    assertKeyInvalid(() => repoKeyOf('projects//x', 'bookworm'), 'projects//x');
    assertKeyInvalid(() => repoKeyOf('projects/x', 'a/b'), 'dist "a/b"');
  });
});

describe('topic names', () => {
  it('are the names of DESIGN.md §2 under the default prefix', () => {
    const topics = topicNames();
    assert.deepEqual(
      { ...topics, requests: topics.requests('arm', 'aarch64') },
      {
        submit: 'buildfleet.submit',
        events: 'buildfleet.events',
        logs: 'buildfleet.logs',
        control: 'buildfleet.control',
        infoRequests: 'buildfleet.info.requests',
        infoResponses: 'buildfleet.info.responses',
        state: 'buildfleet.state',
        deadletter: 'buildfleet.deadletter',
        requests: 'buildfleet.requests.arm.aarch64',
      },
    );
  });

  it('follow a configured prefix, dotted ones included', () => {
    const topics = topicNames('acme.ci');
    assert.equal(topics.events, 'acme.ci.events');
    assert.equal(topics.requests('default', 'x86_64'), 'acme.ci.requests.default.x86_64');
  });

  it('refuse prefixes and segments Kafka or the naming scheme cannot take', () => {
    assertKeyInvalid(() => topicNames('has space'), 'has space');
    assertKeyInvalid(() => topicNames('.lead'), '.lead');
    assertKeyInvalid(() => topicNames(''), 'prefix ""');
    assertKeyInvalid(() => topicNames('x'.repeat(240)), 'prefix');
    assertKeyInvalid(() => topicNames().requests('a.b', 'x86_64'), '"a.b"');
    assertKeyInvalid(() => topicNames().requests('default', ''), '""');
    assertKeyInvalid(() => topicNames('x'.repeat(200)).requests('g'.repeat(40), 'x86_64'), 'longer than 249');
  });
});

describe('consumer group names', () => {
  it('are the shared-queue groups of DESIGN.md §2', () => {
    const groups = consumerGroupNames();
    assert.equal(groups.scheduler, 'buildfleet.scheduler');
    assert.equal(groups.info, 'buildfleet.info');
    assert.equal(groups.runner('arm', 'aarch64'), 'buildfleet.runner.arm.aarch64');
    assert.equal(consumerGroupNames('acme').runner('default', 'x86_64'), 'acme.runner.default.x86_64');
    assertKeyInvalid(() => consumerGroupNames().runner('de fault', 'x86_64'), 'de fault');
  });
});
