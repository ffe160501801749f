package dev.anvil.activities.provenance;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The platform's provenance key: ECDSA on NIST P-256, read from a PKCS#8 PEM ({@code openssl genpkey
 * -algorithm EC -pkeyopt ec_paramgen_curve:P-256}) or generated with the JDK. Its id is the hex SHA-256
 * of the public key's DER (SubjectPublicKeyInfo), so anyone holding the public key can compute it.
 */
public final class SigningKey {
    private static final String CURVE = "secp256r1";
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private final PrivateKey privateKey;
    private final ECPublicKey publicKey;
    private final String keyId;

    private SigningKey(PrivateKey privateKey, ECPublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.keyId = keyId(publicKey);
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    public ECPublicKey publicKey() {
        return publicKey;
    }

    public String keyId() {
        return keyId;
    }

    /** The public key as a PEM ({@code -----BEGIN PUBLIC KEY-----}), as {@code openssl dgst -verify} reads it. */
    public String publicKeyPem() {
        return publicKeyPem(publicKey);
    }

    /** A new key from the JDK's generator. */
    public static SigningKey generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(CURVE));
            KeyPair pair = generator.generateKeyPair();
            return new SigningKey(pair.getPrivate(), (ECPublicKey) pair.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot generate EC P-256 keys: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}) holding an EC P-256 key.
     *
     * @param source where the PEM came from, for error messages (a file, a variable)
     * @throws IllegalArgumentException naming what is wrong with it
     */
    public static SigningKey fromPem(String pem, String source) {
        byte[] der = pemBody(pem, "PRIVATE KEY", source + " is not a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----); convert a"
                + " SEC1 key with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out pkcs8.pem");
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(source + " does not hold an EC private key (" + e.getMessage()
                    + "); make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem", e);
        }
        ECPrivateKey ec = (ECPrivateKey) key;
        ECParameterSpec p256 = p256();
        if (!p256.getCurve().equals(ec.getParams().getCurve())) {
            throw new IllegalArgumentException(source + " holds an EC key on another curve; provenance is signed with"
                    + " P-256 (prime256v1): openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem");
        }
        return new SigningKey(key, derivePublic(ec.getS(), p256));
    }

    /** Reads the key in a PEM file. */
    public static SigningKey read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("provenance key file " + file + " does not exist; point"
                    + " ANVIL_PROVENANCE_KEY_FILE at a PKCS#8 PEM of an EC P-256 key");
        }
        return fromPem(Files.readString(file, StandardCharsets.US_ASCII), "provenance key file " + file);
    }

    /**
     * The key in {@code file}; when there is none, a new key written there first, readable by its owner only
     * (local mode's first start).
     */
    public static SigningKey readOrGenerate(Path file) throws IOException {
        if (Files.exists(file)) {
            return read(file);
        }
        SigningKey key = generate();
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, ".provenance-key", ".tmp");
        try {
            restrictToOwner(temporary);
            Files.writeString(temporary, pem("PRIVATE KEY", key.privateKey.getEncoded()), StandardCharsets.US_ASCII,
                    StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(temporary, file); // fails, leaving the other's key, if another process wrote one meanwhile
        } catch (java.nio.file.FileAlreadyExistsException e) {
            Files.deleteIfExists(temporary);
            return read(file);
        } finally {
            Files.deleteIfExists(temporary);
        }
        return key;
    }

    /** Reads a public key PEM ({@code -----BEGIN PUBLIC KEY-----}) as a verifier gets it from the API. */
    public static ECPublicKey publicKeyFromPem(String pem) {
        byte[] der = pemBody(pem, "PUBLIC KEY", "not a public key PEM (-----BEGIN PUBLIC KEY-----)");
        try {
            return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw new IllegalArgumentException("not an EC public key: " + e.getMessage(), e);
        }
    }

    public static String publicKeyPem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    /** Hex SHA-256 of the public key's DER encoding. */
    public static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] pemBody(String pem, String type, String problem) {
        Matcher m = PEM.matcher(pem == null ? "" : pem);
        if (!m.find() || !m.group(1).equals(type)) {
            throw new IllegalArgumentException(problem);
        }
        try {
            return Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(problem + ": its base64 does not decode", e);
        }
    }

    private static void restrictToOwner(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the folder's permissions are what protect it
            file.toFile().setReadable(false, false);
            file.toFile().setReadable(true, true);
        }
    }

    private static ECParameterSpec p256() {
        try {
            java.security.AlgorithmParameters parameters = java.security.AlgorithmParameters.getInstance("EC");
            parameters.init(new ECGenParameterSpec(CURVE));
            return parameters.getParameterSpec(ECParameterSpec.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK lacks the EC curve P-256: " + e.getMessage(), e);
        }
    }

    /**
     * Q = d·G. A PKCS#8 file need not carry the public key (the JDK writes it without), and the JDK has no
     * call that derives it, so it is computed here: affine double-and-add over the curve's prime field.
     * It runs once per process start, on the platform's own key.
     */
    static ECPublicKey derivePublic(BigInteger d, ECParameterSpec spec) {
        BigInteger prime = ((java.security.spec.ECFieldFp) spec.getCurve().getField()).getP();
        BigInteger a = spec.getCurve().getA();
        ECPoint result = ECPoint.POINT_INFINITY;
        ECPoint addend = spec.getGenerator();
        for (int i = 0; i < d.bitLength(); i++) {
            if (d.testBit(i)) {
                result = add(result, addend, a, prime);
            }
            addend = add(addend, addend, a, prime);
        }
        try {
            return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(result, spec));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot derive the provenance public key: " + e.getMessage(), e);
        }
    }

    private static ECPoint add(ECPoint p, ECPoint q, BigInteger a, BigInteger prime) {
        if (p.equals(ECPoint.POINT_INFINITY)) {
            return q;
        }
        if (q.equals(ECPoint.POINT_INFINITY)) {
            return p;
        }
        BigInteger slope;
        if (p.getAffineX().equals(q.getAffineX())) {
            if (p.getAffineY().add(q.getAffineY()).mod(prime).signum() == 0) {
                return ECPoint.POINT_INFINITY;
            }
            BigInteger x = p.getAffineX();
            slope = x.pow(2).multiply(BigInteger.valueOf(3)).add(a)
                    .multiply(p.getAffineY().shiftLeft(1).modInverse(prime)).mod(prime);
        } else {
            slope = q.getAffineY().subtract(p.getAffineY())
                    .multiply(q.getAffineX().subtract(p.getAffineX()).modInverse(prime)).mod(prime);
        }
        BigInteger x = slope.pow(2).subtract(p.getAffineX()).subtract(q.getAffineX()).mod(prime);
        BigInteger y = slope.multiply(p.getAffineX().subtract(x)).subtract(p.getAffineY()).mod(prime);
        return new ECPoint(x, y);
    }
}
