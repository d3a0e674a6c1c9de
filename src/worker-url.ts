/**
 * The URL to start a worker thread on, from a module path given without extension. Built code runs the `.js` file;
 * when running from sources (tests under tsx), the worker first registers the TypeScript loader in its own thread.
 */
export function workerUrl(base: string, path: string): URL {
  const isTs = base.endsWith('.ts');
  const target = new URL(`${path}${isTs ? '.ts' : '.js'}`, base);
  if (!isTs) return target;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(target.href)});`;
  return new URL('data:text/javascript,' + encodeURIComponent(code));
}
