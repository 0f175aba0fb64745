/**
 * Pure: what an image repository version holds. An image repository is a JSON index
 * (`index.json`) of the image files of its builds (KIWI images, noop files) and of docker
 * images pushed to a registry (reference and digest, no file), keeping the newest
 * `keepVersions` builds of every build key. docs/collector.md describes it for users.
 */
import type { Artifact, ArtifactKind, BuildEvent } from '../../shared/messages/index.ts';

export const IMAGES_INDEX_FILE = 'index.json';
/** Armored detached signature of index.json by the repository key. */
export const IMAGES_INDEX_SIGNATURE = 'index.json.asc';
/** Files live at `files/<buildId>/<artifact name>` inside a version. */
export const IMAGES_FILES_DIR = 'files';

/** The artifact kinds an image index lists. */
export type IndexedKind = Extract<ArtifactKind, 'image' | 'docker-image' | 'other'>;

export interface ImageItem {
  buildId: string;
  buildKey: string;
  project: string;
  /** File name (relative to the build's output), or the image reference for docker-image. */
  name: string;
  kind: IndexedKind;
  size: number;
  sha256: string;
  /** Where the file is inside every version that lists it; absent for docker-image. */
  path?: string;
  /** `<repository url>/<path>`: served from the live version. Absent for docker-image. */
  url?: string;
  /** docker-image: the pushed reference and its manifest digest (`sha256:<hex>`). */
  reference?: string;
  digest?: string;
  commit?: string;
}

export interface ImagesIndex {
  repoKey: string;
  version: string;
  publishedAt: string;
  /** Oldest first: the order in which the builds were published. */
  items: ImageItem[];
}

/** A store object a new version gets by a copy inside the store. */
export interface ImageCopy {
  from: string;
  path: string;
}

/**
 * The artifacts of a build that its image index lists: images and docker images; and the
 * files of a build that made only `other` files (a noop build, whose `.noop` file is the
 * benchmark's artifact). A KIWI build's side files (kind `other` next to an `image`) are not listed.
 */
export function indexedArtifactsOf(event: BuildEvent): Artifact[] {
  const artifacts = event.artifacts ?? [];
  const imageKinds: readonly ArtifactKind[] = ['image', 'docker-image'];
  if (artifacts.some((a) => imageKinds.includes(a.kind))) return artifacts.filter((a) => imageKinds.includes(a.kind));
  if (artifacts.length > 0 && artifacts.every((a) => a.kind === 'other')) return artifacts;
  return [];
}

/** `files/<buildId>/<name>`, each segment reduced to safe characters (a name may have subdirectories). */
export function imageFilePath(buildId: string, name: string): string {
  const safe = (segment: string) => {
    const cleaned = segment.replace(/[^A-Za-z0-9._+~-]/g, '_');
    return cleaned === '' || cleaned === '.' || cleaned === '..' ? '_' : cleaned;
  };
  return [IMAGES_FILES_DIR, safe(buildId), ...name.split('/').map(safe)].join('/');
}

/** The index entries of one build; `repoUrl` is `<publicUrl>/<repoKey>/images`. */
export function itemsOf(event: BuildEvent, repoUrl: string): ImageItem[] {
  return indexedArtifactsOf(event).map((artifact) => {
    const common = {
      buildId: event.buildId,
      buildKey: event.buildKey,
      project: event.project,
      name: artifact.name,
      kind: artifact.kind as IndexedKind,
      size: artifact.size,
      sha256: artifact.sha256,
    };
    const commit = event.commit === undefined ? {} : { commit: event.commit };
    if (artifact.kind === 'docker-image') {
      return { ...common, reference: artifact.name, digest: `sha256:${artifact.sha256}`, ...commit };
    }
    const path = imageFilePath(event.buildId, artifact.name);
    return { ...common, path, url: `${repoUrl}/${path}`, ...commit };
  });
}

/**
 * The items of the next version: those of the live one (`previous`, whose files are under
 * `previousPrefix`) plus the builds', then only the newest `keepVersions` builds of each build
 * key; and where each kept file is copied from (the live version, or the build's artifact).
 */
export function planImagesIndex(options: {
  previous: readonly ImageItem[];
  previousPrefix: string | undefined;
  builds: readonly BuildEvent[];
  keepVersions: number;
  repoUrl: string;
}): { items: ImageItem[]; copies: ImageCopy[] } {
  const sources = new Map<ImageItem, string>();
  const all: ImageItem[] = [];
  for (const item of options.previous) {
    const current = item.path === undefined ? item : { ...item, url: `${options.repoUrl}/${item.path}` };
    if (item.path !== undefined && options.previousPrefix !== undefined) {
      sources.set(current, `${options.previousPrefix}/${item.path}`);
    }
    all.push(current);
  }
  for (const event of options.builds) {
    const artifacts = indexedArtifactsOf(event);
    itemsOf(event, options.repoUrl).forEach((item, i) => {
      const artifact = artifacts[i];
      if (item.path !== undefined && artifact !== undefined) sources.set(item, artifact.key);
      all.push(item);
    });
  }
  const kept = keptBuilds(all, options.keepVersions);
  const items = all.filter((item) => kept.has(item.buildId));
  const copies = items.flatMap((item) => {
    const from = sources.get(item);
    return item.path === undefined || from === undefined ? [] : [{ from, path: item.path }];
  });
  return { items, copies };
}

/** The newest `keep` build ids of every build key (items are oldest first). */
function keptBuilds(items: readonly ImageItem[], keep: number): Set<string> {
  const byKey = new Map<string, string[]>();
  for (const item of items) {
    const ids = byKey.get(item.buildKey) ?? [];
    if (!ids.includes(item.buildId)) ids.push(item.buildId);
    byKey.set(item.buildKey, ids);
  }
  return new Set([...byKey.values()].flatMap((ids) => ids.slice(-Math.max(1, keep))));
}
