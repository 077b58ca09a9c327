/**
 * `@peculiar/x509` with what it needs loaded first: its dependency injection reads decorator
 * metadata through the `Reflect` polyfill, and its crypto is Node's WebCrypto. Every module of the
 * identity imports the library from here.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export * from '@peculiar/x509';
