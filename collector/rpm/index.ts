export { compareEvr, formatEvr, rpmvercmp } from '../../shared/versions/rpm-version.ts';
export { planRpmRepository, type RpmPackage } from './rpm-plan.ts';
export { readRpmHeader, readRpmSigningKeyId } from './rpm-header.ts';
export { writeRpmRepository } from './rpm-repository.ts';
