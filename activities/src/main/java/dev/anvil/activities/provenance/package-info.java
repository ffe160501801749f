/**
 * Signed provenance as plain Java: the in-toto Statement with its SLSA Provenance predicate, DSSE
 * envelopes (pre-authentication encoding, ECDSA P-256 signatures) and the platform's signing key. It
 * knows no Temporal, Quarkus, database or object store, so the worker signs with it and the API and
 * anyone else verify with it (ArchitectureTest keeps it so).
 */
package dev.anvil.activities.provenance;
