// The implementation lives in infra/ (which must not import test code); harness code imports it from here.
export { freePort, freePorts } from '../../infra/kafka/ports.ts';
