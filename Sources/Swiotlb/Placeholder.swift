/// The software IO TLB.\npublic enum SwiotlbVersion {}
