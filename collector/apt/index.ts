export { compareDebianVersions, parseDebianVersion } from '../../shared/versions/debian-version.ts';
export { planAptRepository, poolDirectory, type AptBinaryPackage } from './apt-plan.ts';
export { readDebPackage, readSourcePackage } from './package-files.ts';
export { writeAptRepository } from './apt-repository.ts';
