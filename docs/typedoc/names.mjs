// TypeDoc plugin: names each module of the reference after the import path users write
// (`@weft/http/express`) instead of its folder (`http/src/express`).
import { Converter, ReflectionKind } from 'typedoc';

const NAMES = {
  'core/src': '@weft/core',
  'core/src/config': '@weft/core/config',
  'core/src/testing': '@weft/core/testing',
  'discovery/src': '@weft/discovery',
  'http/src': '@weft/http',
  'http/src/express': '@weft/http/express',
  'http/src/fastify': '@weft/http/fastify',
  'grpc/src': '@weft/grpc',
  'control-plane/src': '@weft/control-plane',
};

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = NAMES[module.name];
      if (name) module.name = name;
    }
  });
}
