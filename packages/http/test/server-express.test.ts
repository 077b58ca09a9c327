import { serverSuite } from './server-behaviour.ts';

serverSuite('express');
