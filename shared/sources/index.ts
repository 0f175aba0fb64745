/**
 * The sources repository (DESIGN.md §5): git access through a cached mirror per repo URL
 * (the SourceRepo port) and the metadata in it: package buildfleet.yml (or the
 * predecessor's .cb/cloud_builder.yml), dists/<name>.yml, and build dependencies read from
 * debian/control and spec files. docs/sources.md is the user documentation.
 */
export type { SourceRepo } from './git/port.ts';
export { createSourceMirror } from './git/mirror.ts';
export { isFullCommitId, mirrorDirName, normaliseRepoUrl, redactCredentials } from './git/repo-url.ts';
export * from './metadata/index.ts';
export * from './graph/index.ts';
