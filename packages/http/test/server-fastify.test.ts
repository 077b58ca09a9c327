import { serverSuite } from './server-behaviour.ts';

serverSuite('fastify');
