/** Version comparison of the package formats, shared by the collector (which version is newest) and the runner (which package satisfies a relation). */
export {
  compareDebianVersions,
  parseDebianVersion,
  versionWithoutEpoch,
  type DebianVersion,
} from './debian-version.ts';
export { compareEvr, formatEvr, rpmvercmp, type Evr } from './rpm-version.ts';
