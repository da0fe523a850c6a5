package school.journal.standin;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * Local MongoDB stand-in for development and tests (mongo-java-server).
 *
 * <pre>
 * java -jar mongo-standin.jar [--host 127.0.0.1] [--port 0] [--memory | --h2 FILE] [--ignore-stdin]
 * </pre>
 *
 * Prints exactly one line {@code LISTENING host:port} on stdout once it accepts connections. Stops
 * cleanly (flushing the H2 file) on SIGTERM/SIGINT and when its stdin reaches end-of-file, so it
 * dies together with the Node process that started it. Everything else goes to stderr.
 */
public final class Launcher {

    /**
     * mongo-java-server 1.47.0 only ships {@code ServerVersion} up to MONGO_5_0 (wire version 8),
     * which the MongoDB Node driver 7 refuses (it needs wire version 9 or later). The backend accepts
     * any {@link MongoVersion}, so report MongoDB 7.0 (wire version 21).
     */
    enum StandinVersion implements MongoVersion {
        MONGO_7_0(List.of(7, 0, 0), 21);

        private final List<Integer> versionArray;
        private final int wireVersion;

        StandinVersion(List<Integer> versionArray, int wireVersion) {
            this.versionArray = versionArray;
            this.wireVersion = wireVersion;
        }

        @Override
        public List<Integer> getVersionArray() {
            return versionArray;
        }

        @Override
        public int getWireVersion() {
            return wireVersion;
        }
    }

    /**
     * mongo-java-server hands out its stored document objects and encodes replies after the
     * collection lock is released, while updates change those objects in place. So a
     * findAndModify with {@code new: true} can answer with a later state (two concurrent
     * {@code $inc} calls both "see" the same value), and a find can, rarely, encode a document
     * half-way through an update. For these single-collection reads, copy the reply while holding
     * the collection's monitor, the lock its synchronized collections take for every write.
     * (Aggregations are left alone: {@code $lookup} would take several locks.)
     */
    static Document snapshotReply(MongoBackend backend, String databaseName, String command, Document query,
            Supplier<Document> handler) {
        Object collectionName;
        switch (command.toLowerCase(Locale.ROOT)) {
            case "findandmodify":
            case "find":
                collectionName = query.get(command);
                break;
            case "getmore":
                collectionName = query.get("collection");
                break;
            default:
                return handler.get();
        }
        MongoCollection<?> collection = collectionName instanceof String
                ? backend.resolveDatabase(databaseName).resolveCollection((String) collectionName, false)
                : null;
        if (collection == null) {
            // Not created yet (an upsert creates it): nobody else holds its documents yet.
            Document reply = handler.get();
            return reply == null ? null : reply.cloneDeeply();
        }
        synchronized (collection) {
            Document reply = handler.get();
            return reply == null ? null : reply.cloneDeeply();
        }
    }

    static final class StandinMemoryBackend extends MemoryBackend {
        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            return snapshotReply(this, databaseName, command, query,
                    () -> super.handleCommand(channel, databaseName, command, query));
        }
    }

    static final class StandinH2Backend extends H2Backend {
        StandinH2Backend(String fileName) {
            super(fileName);
        }

        @Override
        public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
            return snapshotReply(this, databaseName, command, query,
                    () -> super.handleCommand(channel, databaseName, command, query));
        }
    }

    private static final class Options {
        String host = "127.0.0.1";
        int port = 0;
        String h2File = null;
        boolean watchStdin = true;
    }

    private Launcher() {}

    public static void main(String[] args) {
        // Must happen before anything calls LoggerFactory (slf4j-simple reads these once).
        setDefaultProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefaultProperty("org.slf4j.simpleLogger.logFile", "System.err");
        setDefaultProperty("org.slf4j.simpleLogger.showThreadName", "false");
        setDefaultProperty("org.slf4j.simpleLogger.showDateTime", "true");
        setDefaultProperty("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        // Every command that fails (an existing collection, an unsupported stage...) would be
        // logged with a stack trace; the client receives the same error, so keep this quiet.
        setDefaultProperty("org.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "off");

        // stdout carries only the LISTENING line; keep accidental prints off it.
        PrintStream out = System.out;
        System.setOut(System.err);

        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("mongo-standin: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }

        MongoBackend backend;
        try {
            backend = openBackend(options);
        } catch (Exception e) {
            System.err.println("mongo-standin: cannot open storage: " + e);
            System.exit(1);
            return;
        }
        backend.version(StandinVersion.MONGO_7_0);

        MongoServer server = new MongoServer(backend);
        AtomicBoolean stopped = new AtomicBoolean(false);
        Runnable stop = () -> {
            if (stopped.compareAndSet(false, true)) {
                try {
                    // Stops listening, closes the connections and closes the backend (H2: commit + close file).
                    server.shutdown();
                } catch (RuntimeException e) {
                    System.err.println("mongo-standin: error during shutdown: " + e);
                }
            }
        };
        // SIGTERM, SIGINT and System.exit all run shutdown hooks.
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "mongo-standin-shutdown"));

        InetSocketAddress address;
        try {
            server.bind(options.host, options.port);
            address = server.getLocalAddress();
        } catch (RuntimeException e) {
            System.err.println("mongo-standin: cannot listen on " + options.host + ":" + options.port + ": " + e);
            System.exit(1);
            return;
        }

        if (options.watchStdin) {
            Thread watcher = new Thread(Launcher::waitForStdinEof, "mongo-standin-stdin");
            watcher.setDaemon(true);
            watcher.start();
        }

        out.println("LISTENING " + options.host + ":" + address.getPort());
        out.flush();
        // Netty's non-daemon event loop threads keep the JVM alive from here on.
    }

    private static void waitForStdinEof() {
        InputStream in = System.in;
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) != -1) {
                // Input is ignored; only end-of-file (parent gone or pipe closed) matters.
            }
        } catch (IOException e) {
            // A broken stdin means the parent is gone too.
        }
        System.exit(0);
    }

    private static MongoBackend openBackend(Options options) throws IOException {
        if (options.h2File == null) {
            return new StandinMemoryBackend();
        }
        Path file = Path.of(options.h2File).toAbsolutePath();
        Path parent = file.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new StandinH2Backend(file.toString());
    }

    private static Options parse(String[] args) {
        Options options = new Options();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--host":
                    options.host = value(args, ++i, arg);
                    break;
                case "--port":
                    String raw = value(args, ++i, arg);
                    try {
                        options.port = Integer.parseInt(raw);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--port needs a number, got '" + raw + "'");
                    }
                    if (options.port < 0 || options.port > 65535) {
                        throw new IllegalArgumentException("--port out of range: " + options.port);
                    }
                    break;
                case "--memory":
                    options.h2File = null;
                    break;
                case "--h2":
                    options.h2File = value(args, ++i, arg);
                    break;
                case "--ignore-stdin":
                    options.watchStdin = false;
                    break;
                case "--help":
                case "-h":
                    System.err.println(usage());
                    System.exit(0);
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument '" + arg + "'");
            }
        }
        return options;
    }

    private static String value(String[] args, int index, String flag) {
        if (index >= args.length || args[index].startsWith("--")) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[index];
    }

    private static String usage() {
        return "usage: java -jar mongo-standin.jar [--host 127.0.0.1] [--port N (0 = any free port)]"
                + " [--memory | --h2 FILE] [--ignore-stdin]\n"
                + "  Stops on SIGTERM/SIGINT and when stdin is closed (unless --ignore-stdin).";
    }

    private static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
