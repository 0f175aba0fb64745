export { compareEvr, formatEvr, rpmvercmp, type Evr } from '../../shared/versions/rpm-version.ts';
export {
  DEFAULT_KEEP_VERSIONS,
  planRpmRepository,
  rpmTargetPath,
  type PlannedRpm,
  type RpmPackage,
  type RpmPlanOptions,
  type RpmRepositoryPlan,
} from './rpm-plan.ts';
export { readRpmHeader, readRpmSigningKeyId } from './rpm-header.ts';
export {
  RPM_KEY_FILES,
  writeRpmRepository,
  type RpmRepositoryVersion,
  type WriteRpmRepositoryOptions,
} from './rpm-repository.ts';
