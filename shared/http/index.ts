export { createHttpServer, type HttpServer, type HttpServerOptions } from './server.ts';
export {
  createRequestDispatcher,
  HttpMethods,
  UNMATCHED_ROUTE,
  type HttpMethod,
  type HttpRoute,
  type RouteHandler,
  type RouteMatch,
  type RequestTimer,
  type RequestDispatcherOptions,
} from './router.ts';
export { compileHttpLimits, HttpLimitDefaults, type HttpLimits } from './limits.ts';
export { HttpError, errorStatus, sendError, sendJson, statusOf } from './respond.ts';
export { bodyTooLarge, hasBody, isJsonContentType, readBody, readJsonBody } from './body.ts';
export { clientErrorAnswer, type ClientErrorAnswer } from './client-errors.ts';
export { parseRequestTarget, type RequestTarget } from './request-target.ts';
export {
  ANONYMOUS_NONE,
  authorize,
  authorizeProject,
  createHttpAuth,
  createTokenSource,
  type AnonymousAccess,
  type HttpAuth,
  type Principal,
  type RouteAccess,
  type TokenSource,
} from './auth.ts';
export { checkHostAndOrigin, hostPolicy, type HostPolicy } from './host-check.ts';
export {
  addToken,
  revokeToken,
  findToken,
  HashedToken,
  hashTokenSecret,
  HttpRoles,
  newTokenSecret,
  parseTokenLifetime,
  parseTokensFile,
  projectCovered,
  readTokensFile,
  TokensFile,
  tokenExpired,
  type NewToken,
  updateTokensFile,
  writePrivateFile,
  writeTokensFile,
  type HttpRole,
} from './tokens.ts';
