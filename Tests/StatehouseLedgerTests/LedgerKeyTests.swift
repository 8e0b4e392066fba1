import Foundation
import StatehouseLedger
import StatehouseModel
import Testing

@Suite("Ledger keys and signed tree heads")
struct LedgerKeyTests {
    let head = TreeHead(namespace: "ns", treeSize: 7, rootHash: EventHash(bytes: [UInt8](0..<32))!)

    @Test("a signed head verifies with its key, and any changed field or another key fails")
    func signAndVerify() throws {
        let signer = TreeHeadSigner()
        let signed = try signer.sign(self.head, timestamp: 1_700_000_000_000_000)
        #expect(signer.publicKey.verify(signed))
        #expect(signed.keyID.count == 16 && signed.signature.count == 64)
        var changed = signed
        changed.head.namespace = "nt"
        #expect(!signer.publicKey.verify(changed))
        changed = signed
        changed.head.treeSize = 8
        #expect(!signer.publicKey.verify(changed))
        changed = signed
        changed.head.rootHash = .zero
        #expect(!signer.publicKey.verify(changed))
        changed = signed
        changed.timestamp += 1
        #expect(!signer.publicKey.verify(changed))
        changed = signed
        changed.signature[10] ^= 1
        #expect(!signer.publicKey.verify(changed))
        #expect(!TreeHeadSigner().publicKey.verify(signed))
    }

    @Test("the signed bytes follow the documented encoding")
    func documentedBytes() throws {
        let signed = SignedTreeHead(head: self.head, timestamp: 5, keyID: "00112233aabbccdd", signature: [])
        var expected = Array("statehouse.tree-head.v1".utf8) + [0]
        expected += [0, 0, 0, 2] + Array("ns".utf8)
        expected += [0, 0, 0, 0, 0, 0, 0, 7] + [UInt8](0..<32)
        expected += [0, 0, 0, 0, 0, 0, 0, 5]
        expected += [0, 0, 0, 16] + Array("00112233aabbccdd".utf8)
        #expect(TreeHeadEncoding.signedBytes(signed) == expected)
    }

    @Test("keys round-trip through PEM, match Foundation's base64, and bad PEM is refused with the reason")
    func pem() throws {
        let signer = TreeHeadSigner()
        let reloaded = try TreeHeadSigner(pem: signer.pem)
        #expect(reloaded.publicKey == signer.publicKey)
        #expect(try LedgerPublicKey(pem: signer.publicKey.pem) == signer.publicKey)
        let body = signer.publicKey.pem.split(separator: "\n")[1]
        #expect(Data(base64Encoded: String(body)).map(Array.init) != nil)
        #expect(
            Array(Data(base64Encoded: String(body))!).suffix(32) == signer.publicKey.rawRepresentation)
        #expect(throws: LedgerKeyError.self) { try TreeHeadSigner(pem: "nothing") }
        #expect(throws: LedgerKeyError.self) { try LedgerPublicKey(pem: signer.pem) }  // a private key is no public one
        #expect(throws: LedgerKeyError.self) {
            try TreeHeadSigner(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
        #expect(throws: LedgerKeyError.self) { try LedgerPublicKey(rawRepresentation: [1, 2, 3]) }
    }
}
