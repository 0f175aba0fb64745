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
