//! The text of `uspctl --help`.

/// Usage, commands, syntax, options and exit statuses.
pub const HELP: &str = "\
uspctl - lab USP (TR-369) controller for uspagent

USAGE:
    uspctl [OPTIONS] COMMAND [ARGS]...
    uspctl lab [--keep-dir] [--agent-bin FILE]
                                      start uspagent connected to uspctl, then the shell
                                      (uspctl lab --help)
    uspctl [OPTIONS]                  interactive shell (when stdin is a terminal;
                                      otherwise commands are read from stdin, one a line)

COMMANDS:
    get PATH... [--max-depth N]       read parameters (objects, search paths, wildcards)
    set PATH=VALUE... [--allow-partial]
                                      write parameters; see SETTINGS
    add OBJ. [PARAM=VALUE]... [--allow-partial]
                                      create instances (each OBJ. starts a new one)
    del PATH... [--allow-partial]     delete instances
    operate 'CMD()' [NAME=VALUE]... [--no-wait] [--wait-max SECS]
                                      run a command; an asynchronous one is waited for
                                      (progress on stderr) unless --no-wait
    instances PATH... [--first-level-only]
                                      list instances with their unique keys
    gsdm [PATH...] [--first-level-only] [--no-commands] [--no-events] [--no-params]
         [--unique-keys]              the supported data model (default PATH: Device.)
    proto [VERSIONS]                  the agent's USP versions
    subscribe TYPE REFLIST [--keep] [--count N] [--for SECS]
                                      create a subscription (TYPE: ValueChange,
                                      ObjectCreation, ObjectDeletion, OperationComplete,
                                      Event) and watch it; it is deleted at the end
                                      (Ctrl-C, --count, --for) unless --keep
    watch [--count N] [--for SECS]    print notifications as they arrive
    decode [INPUT]                    print a Record or Msg given as a file, hex or base64
                                      (stdin without INPUT); --json for JSON
    encode COMMAND [ARGS]...          print, in hex, the Record COMMAND would send
                                      (needs --agent; nothing is sent)
    shell                             the interactive shell (history, Tab completes
                                      paths learnt from GetSupportedDM)
    help                              this text

SETTINGS (set, add):
    Device.X.1.Param=value            a full parameter path and its value (set)
    Device.X.1. Param=value ...       an object path, then names relative to it
    Param?=value                      '?' after the name: not required (a failure of
                                      this parameter does not fail its object)
    Settings of the same object are sent as one object. The first '=' outside [...]
    splits, so search paths work: 'Device.X.[Name==\"a\"].Enable=true'. Quote for the
    shell.

OUTPUT:
    A table by default; with --json the response as JSON (the layout of rusp-lib:
    .proto field names), and notifications as one JSON object a line.

OPTIONS:
    -j, --json                        JSON output
        --timeout SECS                response timeout (default 10)
        --eid EID                     our Endpoint ID (default self::uspctl)
        --agent EID                   the agent's Endpoint ID (default: the first agent
                                      that connects or sends)
        --trace                       print every Record sent and received on stderr
        --e2e                         talk in an E2E Session Context (SessionContext
                                      Records of TR-369)
    Transport (one of):
        --mqtt HOST[:PORT]            MQTT 5 broker (1883; 8883 with TLS)
            --mqtt-v311               MQTT 3.1.1 instead
            --topic TOPIC             our topic (default usp/controller/EID)
            --agent-topic TOPIC       the agent's topic (default: from its
                                      MQTTConnect Record or Response Topic)
            --client-id ID            our MQTT ClientId (default: assigned by the
                                      broker (5.0), a new one per process (3.1.1))
        --stomp HOST[:PORT]           STOMP broker (61613; 61614 with TLS)
            --dest DEST               our destination (default /queue/uspctl.EID); two
                                      uspctl on one destination share its messages: give
                                      a second one (commands while a watch runs) its own
                                      --dest (answers follow it; notifications go to the
                                      agent's Controller.{i}.MTP.{i}.STOMP.Destination)
            --agent-dest DEST         the agent's destination (default: from its
                                      STOMPConnect Record or reply-to-dest)
            --vhost VHOST             the virtual host (CONNECT's host header; default:
                                      HOST; RabbitMQ's default vhost is /)
        --ws ws[s]://HOST[:PORT]/PATH be a WebSocket client of the agent
        --ws-listen [ADDR:]PORT       be a WebSocket server agents connect to
        --user USER, --password PASS  broker credentials (also --login, --passcode)
        --tls                         use TLS (implied by --tls-ca, --insecure, wss://)
        --tls-ca FILE                 trusted CAs (PEM; default: the system bundle)
        --tls-cert FILE --tls-key FILE
                                      our certificate and key (PEM): client certificate,
                                      or the server's with --ws-listen
        --insecure                    do not verify the server (labs only)
    -h, --help                        this text
    -V, --version                     the version

EXIT STATUS:
    0 success, 1 the agent reported an error (USP code and message on stderr, also for
    each failed path, object or command), 2 bad usage, 3 transport failure,
    4 no answer in time, 130 interrupted.
";
