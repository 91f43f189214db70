import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { Router } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { openApiDocument } from './openapi';

/** The version in package.json, which sits two levels up from both src/api and dist/api. */
export function packageVersion(): string {
  const file = path.resolve(__dirname, '../../package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

// Swagger UI's scripts and styles are same-origin files, which the API's CSP allows; only
// upgrade-insecure-requests goes, so the page also loads from a plain-http deployment.
const docsCsp = helmet.contentSecurityPolicy({ directives: { upgradeInsecureRequests: null } });

// Swagger UI links its assets relatively ("./swagger-ui.css"): they only resolve under /docs/.
function withTrailingSlash(req: Request, res: Response, next: NextFunction) {
  if (req.originalUrl.split('?')[0] === '/docs') res.redirect('/docs/');
  else next();
}

/** GET /openapi.json and Swagger UI at /docs/, both served without a token. */
export function apiDocs(version = packageVersion()): Router {
  const document = openApiDocument({ version });
  const r = Router();
  r.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  r.use(
    '/docs',
    docsCsp,
    withTrailingSlash,
    swaggerUi.serve,
    swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json', validatorUrl: null } }),
  );
  return r;
}
