/// The minerals the registry folds: the EU Critical Raw Materials Act list (2024, Annex II), the
/// USGS 2022 list of critical minerals, and rare-earth permanent magnets, extensible by config.
///
/// The catalogue is part of the *fold*, not of entry validity: two nodes with different
/// extensions store and relay the same entries, and each folds the minerals it knows.
public struct MineralCatalogue: Sendable, Hashable {
    public struct Mineral: Sendable, Hashable {
        public let id: MineralID
        public let name: String
        /// Which lists name it: "EU-CRMA-2024", "US-USGS-2022", "alliance", or "config".
        public let sources: [String]
    }

    public private(set) var minerals: [MineralID: Mineral]
    private var aliases: [String: MineralID]

    public init(extensions: [(id: String, name: String)] = []) throws(RegistryValueError) {
        var minerals: [MineralID: Mineral] = [:]
        for (id, name, eu, us) in Self.builtIn {
            var sources: [String] = []
            if eu { sources.append("EU-CRMA-2024") }
            if us { sources.append("US-USGS-2022") }
            if !eu && !us { sources.append("alliance") }
            let mineral = Mineral(id: MineralID(trusted: id), name: name, sources: sources)
            minerals[mineral.id] = mineral
        }
        for (id, name) in extensions {
            let mineralID = try MineralID(id)
            guard minerals[mineralID] == nil else { continue }
            minerals[mineralID] = Mineral(id: mineralID, name: name, sources: ["config"])
        }
        self.minerals = minerals
        self.aliases = ["aluminum": MineralID(trusted: "aluminium"), "baryte": MineralID(trusted: "barite"),
                        "bauxite": MineralID(trusted: "aluminium"), "borate": MineralID(trusted: "boron"),
                        "rare-earth-magnet": MineralID(trusted: "rare-earth-magnets")]
    }

    /// The built-in catalogue only.
    public static let standard: MineralCatalogue = try! MineralCatalogue()

    public func contains(_ id: MineralID) -> Bool { minerals[id] != nil }

    /// Resolves what an operator typed (an id or a common alias such as "aluminum") to a known id.
    public func resolve(_ text: String) throws(RegistryValueError) -> MineralID {
        let lowered = text.lowercased().replacingOccurrences(of: " ", with: "-")
        if let alias = aliases[lowered] { return alias }
        let id = try MineralID(lowered)
        guard contains(id) else { throw .unknownMineral(text) }
        return id
    }

    public var sorted: [Mineral] { minerals.values.sorted { $0.id < $1.id } }

    /// (id, display name, on the EU list, on the US list)
    private static let builtIn: [(String, String, Bool, Bool)] = [
        ("aluminium", "Aluminium / bauxite / alumina", true, true),
        ("antimony", "Antimony", true, true),
        ("arsenic", "Arsenic", true, true),
        ("barite", "Barite (baryte)", true, true),
        ("beryllium", "Beryllium", true, true),
        ("bismuth", "Bismuth", true, true),
        ("boron", "Boron / borate", true, false),
        ("cerium", "Cerium", false, true),
        ("cesium", "Cesium", false, true),
        ("chromium", "Chromium", false, true),
        ("cobalt", "Cobalt", true, true),
        ("coking-coal", "Coking coal", true, false),
        ("copper", "Copper", true, false),
        ("dysprosium", "Dysprosium", false, true),
        ("erbium", "Erbium", false, true),
        ("europium", "Europium", false, true),
        ("feldspar", "Feldspar", true, false),
        ("fluorspar", "Fluorspar", true, true),
        ("gadolinium", "Gadolinium", false, true),
        ("gallium", "Gallium", true, true),
        ("germanium", "Germanium", true, true),
        ("graphite", "Graphite (natural)", true, true),
        ("hafnium", "Hafnium", true, true),
        ("helium", "Helium", true, false),
        ("heavy-rare-earths", "Heavy rare earth elements", true, false),
        ("holmium", "Holmium", false, true),
        ("indium", "Indium", false, true),
        ("iridium", "Iridium", false, true),
        ("lanthanum", "Lanthanum", false, true),
        ("light-rare-earths", "Light rare earth elements", true, false),
        ("lithium", "Lithium", true, true),
        ("lutetium", "Lutetium", false, true),
        ("magnesium", "Magnesium", true, true),
        ("manganese", "Manganese", true, true),
        ("neodymium", "Neodymium", false, true),
        ("nickel", "Nickel", true, true),
        ("niobium", "Niobium", true, true),
        ("palladium", "Palladium", false, true),
        ("phosphate-rock", "Phosphate rock", true, false),
        ("phosphorus", "Phosphorus", true, false),
        ("platinum", "Platinum", false, true),
        ("platinum-group-metals", "Platinum group metals", true, false),
        ("praseodymium", "Praseodymium", false, true),
        ("rare-earth-magnets", "Rare-earth permanent magnets", false, false),
        ("rhodium", "Rhodium", false, true),
        ("rubidium", "Rubidium", false, true),
        ("ruthenium", "Ruthenium", false, true),
        ("samarium", "Samarium", false, true),
        ("scandium", "Scandium", true, true),
        ("silicon-metal", "Silicon metal", true, false),
        ("strontium", "Strontium", true, false),
        ("tantalum", "Tantalum", true, true),
        ("tellurium", "Tellurium", false, true),
        ("terbium", "Terbium", false, true),
        ("thulium", "Thulium", false, true),
        ("tin", "Tin", false, true),
        ("titanium", "Titanium", true, true),
        ("tungsten", "Tungsten", true, true),
        ("vanadium", "Vanadium", true, true),
        ("ytterbium", "Ytterbium", false, true),
        ("yttrium", "Yttrium", false, true),
        ("zinc", "Zinc", false, true),
        ("zirconium", "Zirconium", false, true),
    ]
}
