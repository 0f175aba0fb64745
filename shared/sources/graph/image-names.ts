/**
 * What docker and KIWI images provide and need, by name (pure, from the file texts).
 *
 * docker: provides the image name; needs the images of `FROM` lines, without registry host,
 * tag or digest, so `registry:5000/team/base:1.2` needs `team/base`. Not covered: `FROM` with a
 * variable (`${BUILDFLEET_BASE_IMAGE}`: the value is known only at build time), earlier stages
 * (`FROM build`), `scratch`, and `COPY --from=<image>`.
 *
 * kiwi: provides `<image name=...>`; needs every `<package name=...>` (bootstrap packages
 * included). Not covered: `<repository>` sources pointing at our own repositories (the packages
 * named make the edges), `<archive>` and `<ignore>`, and profiles (every package of every profile counts).
 */
import type { ProvidesNeeds } from './package-names.ts';
import { unique } from './package-names.ts';

export function dockerNeeds(dockerfileText: string): ProvidesNeeds['needs'] {
  const stages = new Set<string>();
  const needs: ProvidesNeeds['needs'] = [];
  const lines = dockerfileText.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const line of lines) {
    const match = /^\s*FROM\s+(.+?)\s*$/i.exec(line);
    if (match === null) continue;
    const words = (match[1] ?? '').split(/\s+/).filter((word) => !word.startsWith('--'));
    const [image, as, stage] = words;
    if (image === undefined) continue;
    const known = stages.has(image.toLowerCase());
    if (as?.toLowerCase() === 'as' && stage !== undefined) stages.add(stage.toLowerCase());
    if (known || image.includes('$') || image === 'scratch') continue;
    const name = imageName(image);
    if (!needs.some((need) => need.names[0] === name)) needs.push({ relation: image, names: [name] });
  }
  return needs;
}

/** `registry:5000/team/base:1.2@sha256:..` -> `team/base`; `docker.io/library/debian` -> `debian`. */
export function imageName(reference: string): string {
  const withoutDigest = reference.split('@')[0] ?? reference;
  const parts = withoutDigest.split('/');
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) parts.shift();
  const last = parts.pop() ?? '';
  parts.push(last.split(':')[0] ?? last);
  if (parts.length === 2 && parts[0] === 'library' && (first === 'docker.io' || first === 'index.docker.io')) {
    parts.shift();
  }
  return parts.join('/').toLowerCase();
}

export function kiwiProvidesNeeds(descriptionText: string): ProvidesNeeds {
  const text = descriptionText.replace(/<!--[\s\S]*?-->/g, '');
  const image = /<image\b[^>]*?\bname\s*=\s*["']([^"']+)["']/.exec(text)?.[1];
  const names = unique([...text.matchAll(/<package\b[^>]*?\bname\s*=\s*["']([^"']+)["']/g)].map((m) => m[1] ?? ''));
  return {
    provides: image === undefined ? [] : [image],
    needs: names.map((name) => ({ relation: name, names: [name] })),
  };
}
