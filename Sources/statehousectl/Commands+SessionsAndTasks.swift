import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel

/// `session start|end|show|list`.
struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Start, end, show or list sessions of agents.",
        subcommands: [SessionStart.self, SessionEnd.self, SessionShow.self, SessionList.self])
}

struct SessionStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a session; prints its id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Option(help: "The session's id (default: one the daemon makes).") var id: String?
    @Option(help: "Metadata: one JSON text.") var metadata: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let session = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.startSession(
                namespace: self.global.namespaceName, agentID: self.agent, id: self.id,
                metadata: try self.metadata.map(LifecycleRender.json))
        }
        emit(try self.global.format == .json ? ModelJSON.session(session).text : session.id)
    }
}

struct SessionEnd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "end", abstract: "End a session with a status.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Session id.") var id: String
    @Option(help: "The status it ends with.") var status: String = "ended"

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let session = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.endSession(namespace: self.global.namespaceName, id: self.id, status: self.status)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.session(session).text : LifecycleRender.sessionTable([session]))
    }
}

struct SessionShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a session.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Session id.") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let sessions = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            [try await client.getSession(namespace: self.global.namespaceName, id: self.id)]
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.session(sessions[0]).text : LifecycleRender.sessionTable(sessions))
    }
}

struct SessionList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List sessions.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this agent's.") var agent: String?
    @Option(help: "Only sessions with this status.") var status: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let sessions = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.listSessions(
                    namespace: self.global.namespaceName, agentID: self.agent, status: self.status, cursor: $0)
            }
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(sessions.map(ModelJSON.session)).text)
        } else if !sessions.isEmpty {
            emit(LifecycleRender.sessionTable(sessions))
        }
    }
}

/// `task create|update|show|list`.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Create, update, show or list tasks.",
        subcommands: [TaskCreate.self, TaskUpdate.self, TaskShow.self, TaskList.self])
}

struct TaskFields: ParsableArguments {
    @Option(help: "Description.") var description: String?
    @Option(help: "Status, e.g. pending, running, done.") var status: String?
    @Option(help: "Who it is assigned to.") var assign: String?
    @Option(help: "Metadata: one JSON text.") var metadata: String?
}

struct TaskCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a task; prints its id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Title.") var title: String
    @OptionGroup var fields: TaskFields
    @Option(help: "The task's id (default: one the daemon makes).") var id: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let task = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.createTask(
                namespace: self.global.namespaceName, title: self.title, description: self.fields.description ?? "",
                status: self.fields.status ?? "pending", assignedTo: self.fields.assign,
                metadata: try self.fields.metadata.map(LifecycleRender.json), id: self.id)
        }
        emit(try self.global.format == .json ? ModelJSON.task(task).text : task.id)
    }
}

struct TaskUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a task's fields.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Task id.") var id: String
    @Option(help: "Title.") var title: String?
    @OptionGroup var fields: TaskFields

    func run() async throws {
        let update = AgentTaskUpdate(
            title: self.title, description: self.fields.description, status: self.fields.status,
            assignedTo: self.fields.assign, metadata: try self.fields.metadata.map(LifecycleRender.json))
        guard update != AgentTaskUpdate() else {
            throw UsageError("give --title, --description, --status, --assign or --metadata")
        }
        let (host, port) = try self.global.endpoint()
        let task = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.updateTask(namespace: self.global.namespaceName, id: self.id, update)
        }
        emit(try self.global.format == .json ? ModelJSON.task(task).text : LifecycleRender.taskTable([task]))
    }
}

struct TaskShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a task.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Task id.") var id: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let task = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.getTask(namespace: self.global.namespaceName, id: self.id)
        }
        emit(
            try self.global.format == .json
                ? ModelJSON.task(task).text
                : LifecycleRender.taskTable([task]) + (task.description.isEmpty ? "" : "\n\n" + task.description))
    }
}

struct TaskList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only tasks with this status.") var status: String?
    @Option(help: "Only tasks assigned to this.") var assignee: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let tasks = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.listTasks(
                    namespace: self.global.namespaceName, status: self.status, assignedTo: self.assignee, cursor: $0)
            }
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(tasks.map(ModelJSON.task)).text)
        } else if !tasks.isEmpty {
            emit(LifecycleRender.taskTable(tasks))
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the daemon's store, consistently and while it serves, into a directory on its machine.",
        discussion: """
            The copy is SQLite's VACUUM INTO from one read snapshot: commits go on during it and are not in it. Start \\
            statehoused with --data-dir DEST to serve the copy. DEST is an absolute path on the daemon's machine, new \\
            or empty. The ledger signing key is not copied: keep its file (DATA_DIR/ledger-signing-key.pem) with your \\
            backups.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup directory (absolute path on the daemon's machine).") var destination: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let report = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await Progress.timing("backup") { try await client.backup(to: self.destination) }
        }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    ("path", .string(report.path)), ("bytes", .int(report.bytes)),
                    (
                        "heads",
                        .array(
                            report.heads.map {
                                .object([
                                    ("namespace", .string($0.namespace)), ("commit_ts", .int($0.commitTS)),
                                    ("hash", .string($0.hash.hex)),
                                ])
                            })
                    ),
                ]).text)
        } else {
            emit(
                "wrote \(report.path) (\(report.bytes) bytes): "
                    + report.heads.map { "\($0.namespace) at commit_ts \($0.commitTS)" }.joined(separator: ", "))
        }
    }
}
