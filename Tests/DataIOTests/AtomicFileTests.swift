// Atomic writes: the target appears complete, replaces old content, and no temporary file is
// left behind — also when the writer fails or the folder cannot be written.
import DataIO
import Foundation
import Testing

@Suite struct AtomicFileTests {
    @Test func writesAndReplacesWithoutLeavingTemporaryFiles() throws {
        let folder = TemporaryFolder()
        let target = folder.file("out.txt")
        try AtomicFile.write("first version, longer than the second\n", to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "first version, longer than the second\n")
        try AtomicFile.write(Data("second\n".utf8), to: target)
        #expect(try String(contentsOf: target, encoding: .utf8) == "second\n")
        #expect(folder.contents() == ["out.txt"])
    }

    @Test func failingProducerLeavesOldFileAndNoTemporary() throws {
        let folder = TemporaryFolder()
        let target = folder.file("keep.txt")
        try AtomicFile.write("original", to: target)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicFile.replace(target) { temporary in
                try Data("partial".utf8).write(to: temporary)
                throw Boom()
            }
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "original")
        #expect(folder.contents() == ["keep.txt"])
    }

    @Test func producerThatWritesNothingIsAnError() {
        let folder = TemporaryFolder()
        let target = folder.file("nothing.txt")
        expectMessage(containing: [target.path, "produced no file"]) {
            try AtomicFile.replace(target) { _ in }
        }
        #expect(folder.contents().isEmpty)
    }

    @Test func folderUnderARegularFileGivesClearError() throws {
        // Tests run as root, so permission bits would not stop a write; a path below a regular
        // file cannot be created by anyone.
        let folder = TemporaryFolder()
        let blocker = folder.file("somefile")
        try AtomicFile.write("x", to: blocker)
        let target = blocker.appendingPathComponent("child.txt")
        expectMessage(containing: [target.path, "cannot write", "is a file, not a folder"]) {
            try AtomicFile.write("data", to: target)
        }
        let deeper = blocker.appendingPathComponent("a/b/c.txt")
        expectMessage(containing: [deeper.path, "\(blocker.path) is a file, not a folder"]) {
            try AtomicFile.write("data", to: deeper)
        }
    }

    @Test func createFolderMakesParentsOrExplains() throws {
        let folder = TemporaryFolder()
        let nested = folder.file("a/b/c")
        try AtomicFile.createFolder(nested)
        try AtomicFile.createFolder(nested)  // existing: fine
        try AtomicFile.write("x", to: nested.appendingPathComponent("f.txt"))
        expectMessage(containing: [nested.path + "/f.txt", "it is a file, not a folder"]) {
            try AtomicFile.createFolder(nested.appendingPathComponent("f.txt"))
        }
        expectMessage(containing: [nested.path + "/f.txt/d/e", "\(nested.path)/f.txt is a file, not a folder"]) {
            try AtomicFile.createFolder(nested.appendingPathComponent("f.txt/d/e"))
        }
    }

    @Test func missingFolderGivesClearError() {
        let folder = TemporaryFolder()
        let target = folder.file("no-such-folder/out.txt")
        expectMessage(containing: [target.path, "does not exist"]) {
            try AtomicFile.write("data", to: target)
        }
    }

    @Test func targetThatIsAFolderGivesClearError() throws {
        let folder = TemporaryFolder()
        let target = folder.file("sub")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        expectMessage(containing: [target.path, "a folder of that name exists"]) {
            try AtomicFile.write("data", to: target)
        }
        #expect(folder.contents() == ["sub"])
    }
}
